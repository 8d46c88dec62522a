package dev.reft.schemas;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record value that could not be decoded into its Avro type. Services catch it (or Kafka's
 * {@code RecordDeserializationException} that wraps it) and send the raw bytes to the dead-letter topic.
 */
public final class RecordDecodeException extends SerializationException {

  private static final long serialVersionUID = 1L;

  /** Why decoding failed. */
  public enum Reason {
    /** The bytes do not start with the Avro single-object marker {@code C3 01}. */
    BAD_HEADER,
    /** The header is fine but the schema fingerprint is none this build knows (a newer or foreign writer). */
    UNKNOWN_SCHEMA,
    /** The header and schema are known but the body is truncated or corrupt. */
    CORRUPT_BODY
  }

  private final Reason reason;
  private final String recordType;

  public RecordDecodeException(String recordType, Reason reason, String message, Throwable cause) {
    super("cannot decode " + recordType + " (" + reason + "): " + message, cause);
    this.reason = reason;
    this.recordType = recordType;
  }

  /** Why decoding failed. */
  public Reason reason() {
    return reason;
  }

  /** The simple name of the record type that was expected. */
  public String recordType() {
    return recordType;
  }
}
