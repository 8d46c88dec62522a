package dev.reft.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for a generated Avro record in Avro's single-object encoding: {@code C3 01}, the 8-byte
 * CRC-64-AVRO fingerprint of the writer schema, then the binary body. No schema registry is needed:
 * the decoder knows the current schema and every released one ({@link SchemaHistory}), and resolves
 * older writers to the current reader schema.
 *
 * <p>Decoding failures raise {@link RecordDecodeException}. Encoders and decoders are thread-safe.
 *
 * @param <T> the generated record class
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

  private final Class<T> type;
  private final String recordType;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;

  private AvroSerde(Class<T> type, List<Schema> olderWriterSchemas) {
    // Resolve record classes with the class loader that loaded the record type, not the thread's context
    // loader: under Quarkus' class loaders they differ, and the wrong one yields ClassCastExceptions. Keep
    // the logical-type conversions (timestamp-millis -> Instant) of the generated model.
    SpecificData model = new SpecificData(type.getClassLoader());
    SpecificData.getForClass(type).getConversions().forEach(model::addLogicalTypeConversion);
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    Schema schema = model.getSchema(type);
    this.type = type;
    this.recordType = schema.getName();
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.decoder = new BinaryMessageDecoder<>(model, schema);
    for (Schema released : SchemaHistory.released(recordType)) {
      decoder.addSchema(released);
    }
    for (Schema older : olderWriterSchemas) {
      decoder.addSchema(older);
    }
  }

  /** The serde for a generated record class, knowing every released version of its schema. */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
    return new AvroSerde<>(type, List.of());
  }

  /** As {@link #of(Class)}, and also able to read records written with the given extra schemas. */
  public static <T extends SpecificRecord> AvroSerde<T> withWriterSchemas(Class<T> type, List<Schema> extra) {
    return new AvroSerde<>(type, extra);
  }

  /** The record class. */
  public Class<T> type() {
    return type;
  }

  /** Encodes a record; {@code null} stays {@code null} (a tombstone). */
  public byte[] encode(T record) {
    if (record == null) {
      return null;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try {
      encoder.encode(record, out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode " + recordType, e);
    }
    return out.toByteArray();
  }

  /**
   * Decodes a record; {@code null} stays {@code null}.
   *
   * @throws RecordDecodeException when the bytes are not a readable record of this type
   */
  public T decode(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      return decoder.decode(bytes);
    } catch (BadHeaderException e) {
      throw new RecordDecodeException(recordType, RecordDecodeException.Reason.BAD_HEADER, e.getMessage(), e);
    } catch (MissingSchemaException e) {
      throw new RecordDecodeException(recordType, RecordDecodeException.Reason.UNKNOWN_SCHEMA, e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      // Truncated or corrupt bodies surface as EOFException, AvroRuntimeException or index errors.
      throw new RecordDecodeException(
          recordType, RecordDecodeException.Reason.CORRUPT_BODY, e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, data) -> encode(data);
  }

  @Override
  public Deserializer<T> deserializer() {
    return (topic, data) -> decode(data);
  }
}
