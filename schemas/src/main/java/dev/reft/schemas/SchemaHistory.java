package dev.reft.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;

/**
 * Every released version of a record's schema, kept as {@code history/<RecordName>/v<N>.avsc} on the
 * class path (source: {@code schemas/src/main/resources/history}).
 *
 * <p>Released schemas are needed at run time, not only in tests: a consumer must decode records that
 * older producers wrote, and single-object encoding names the writer schema only by its fingerprint. The
 * build checks (see {@code SchemaEvolutionTest}) that the current schema equals the newest released
 * version and stays compatible in both directions with every older one.
 */
public final class SchemaHistory {

  private SchemaHistory() {}

  /** Released versions of the record's schema, oldest first; empty if none was released. */
  public static List<Schema> released(String recordName) {
    List<Schema> versions = new ArrayList<>();
    for (int v = 1; ; v++) {
      String resource = resourceName(recordName, v);
      try (InputStream in = SchemaHistory.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          return List.copyOf(versions);
        }
        versions.add(new Schema.Parser().parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new IllegalStateException("cannot read released schema " + resource, e);
      }
    }
  }

  /** The class-path resource of version {@code v} of a record's schema. */
  public static String resourceName(String recordName, int v) {
    return "history/" + recordName + "/v" + v + ".avsc";
  }
}
