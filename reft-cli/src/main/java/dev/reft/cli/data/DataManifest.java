package dev.reft.cli.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * The record of what ships under {@code data/}: {@code data/MANIFEST.tsv}, one line per file with its item count,
 * SHA-256, licence and source. It is the one place the hashes are written down; {@code reft data list} checks
 * the files against it and prints the table {@code data/README.md} shows.
 *
 * <p>Format: UTF-8, tab-separated; blank lines and lines starting with {@code #} are ignored; the first other
 * line is the header {@code file items sha256 license source}. {@code file} is relative to the data directory
 * with {@code /} separators, {@code items} is a count or {@code -} for files that are not data sets (licences),
 * {@code sha256} is 64 lower-case hex digits.
 */
public final class DataManifest {

  /** The manifest's file name inside the data directory. */
  public static final String FILE_NAME = "MANIFEST.tsv";

  static final List<String> HEADER = List.of("file", "items", "sha256", "license", "source");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  /**
   * One recorded file.
   *
   * @param file path relative to the data directory, {@code /}-separated
   * @param items the number of items, empty for files that are not data sets
   * @param sha256 the SHA-256 of the file's bytes, lower-case hex
   * @param license the licence it is distributed under, e.g. {@code MIT}
   * @param source where it comes from: a URL, or the command that derived it
   */
  public record Entry(String file, OptionalInt items, String sha256, String license, String source) {}

  private final Map<String, Entry> entries;

  private DataManifest(Map<String, Entry> entries) {
    this.entries = entries;
  }

  /** The entries in the order of the file, keyed by {@link Entry#file}. */
  public Map<String, Entry> entries() {
    return entries;
  }

  /**
   * Reads a manifest file.
   *
   * @throws IOException if it cannot be read
   * @throws IllegalArgumentException naming the line, if it is not in the format of the class comment
   */
  public static DataManifest read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    Map<String, Entry> entries = new LinkedHashMap<>();
    boolean header = false;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String where = file + " line " + (i + 1) + ": ";
      List<String> fields = List.of(line.split("\t", -1));
      if (!header) {
        if (!fields.equals(HEADER)) {
          throw new IllegalArgumentException(where + "expected the header '" + String.join("\\t", HEADER) + "'");
        }
        header = true;
        continue;
      }
      if (fields.size() != HEADER.size()) {
        throw new IllegalArgumentException(where + "expected " + HEADER.size() + " tab-separated fields, found "
            + fields.size());
      }
      String name = fields.get(0);
      if (name.isBlank() || name.startsWith("/") || name.contains("\\") || List.of(name.split("/")).contains("..")) {
        throw new IllegalArgumentException(where + "file must be a relative path with / separators: '" + name + "'");
      }
      OptionalInt items = OptionalInt.empty();
      if (!fields.get(1).equals("-")) {
        try {
          items = OptionalInt.of(Integer.parseInt(fields.get(1)));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(where + "items must be a count or '-': '" + fields.get(1) + "'", e);
        }
        if (items.getAsInt() < 0) {
          throw new IllegalArgumentException(where + "items must not be negative: " + items.getAsInt());
        }
      }
      if (!SHA256.matcher(fields.get(2)).matches()) {
        throw new IllegalArgumentException(where + "sha256 must be 64 lower-case hex digits: '" + fields.get(2) + "'");
      }
      if (entries.put(name, new Entry(name, items, fields.get(2), fields.get(3), fields.get(4))) != null) {
        throw new IllegalArgumentException(where + "file listed twice: " + name);
      }
    }
    if (!header) {
      throw new IllegalArgumentException(file + ": no header line '" + String.join("\\t", HEADER) + "'");
    }
    return new DataManifest(entries);
  }
}
