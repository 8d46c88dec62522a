package dev.reft.schemas;

import java.nio.ByteBuffer;
import java.time.Instant;

/** Builds {@link DeadLetter} records the same way in every service. */
public final class DeadLetters {

  private DeadLetters() {}

  /** Where in the pipeline a record was given up on. */
  public enum Stage {
    /** Its bytes could not be decoded. */
    DESERIALIZATION,
    /** It decoded, but processing it threw. */
    PROCESSING,
    /** Its result could not be produced. */
    PRODUCTION
  }

  /**
   * Most bytes of a source record's key or value a dead letter keeps. A dead letter must itself fit in a Kafka
   * record (1 MiB by default): a 1 MB poison record whose dead letter carried all of it could not be published, and
   * a service that writes dead letters in its processing transaction would retry it for ever.
   */
  public static final int MAX_RAW_BYTES = 64 * 1024;

  /**
   * A dead letter for one source record. Keys and values longer than {@link #MAX_RAW_BYTES} are cut to that length,
   * and the message says so.
   *
   * @param service who gives up on it, e.g. {@code reward-service/pod-1}
   * @param rawKey the key bytes as read, or {@code null}
   * @param rawValue the value bytes as read, or {@code null}
   * @param error what went wrong; its cause chain is kept in the message
   */
  public static DeadLetter of(
      String service,
      Stage stage,
      String sourceTopic,
      int sourcePartition,
      long sourceOffset,
      byte[] rawKey,
      byte[] rawValue,
      Throwable error) {
    String cut = "";
    if (rawValue != null && rawValue.length > MAX_RAW_BYTES) {
      cut += " [raw value cut from " + rawValue.length + " to " + MAX_RAW_BYTES + " bytes]";
      rawValue = java.util.Arrays.copyOf(rawValue, MAX_RAW_BYTES);
    }
    if (rawKey != null && rawKey.length > MAX_RAW_BYTES) {
      cut += " [raw key cut from " + rawKey.length + " to " + MAX_RAW_BYTES + " bytes]";
      rawKey = java.util.Arrays.copyOf(rawKey, MAX_RAW_BYTES);
    }
    return DeadLetter.newBuilder()
        .setService(service)
        .setStage(stage.name())
        .setSourceTopic(sourceTopic == null ? "" : sourceTopic)
        .setSourcePartition(sourcePartition)
        .setSourceOffset(sourceOffset)
        .setRawKey(rawKey == null ? null : ByteBuffer.wrap(rawKey))
        .setRawValue(rawValue == null ? null : ByteBuffer.wrap(rawValue))
        .setErrorClass(error.getClass().getName())
        .setErrorMessage(describe(error) + cut)
        .setCreatedAt(Instant.now())
        .build();
  }

  /** The message of an error and of each of its causes, joined by {@code "; caused by "}. */
  public static String describe(Throwable error) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (sb.length() > 0) {
        sb.append("; caused by ");
      }
      sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
      if (sb.length() > 4000) {
        break;
      }
    }
    return sb.toString();
  }
}
