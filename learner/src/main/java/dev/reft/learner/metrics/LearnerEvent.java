package dev.reft.learner.metrics;

import java.util.Locale;

/**
 * The learner's counted events: the Prometheus counter {@code reft_learner_events_total{event="<key>"}}, the
 * running totals kept in a checkpoint's learner state, and the {@code count_<key>} entries of update records.
 */
public enum LearnerEvent {
  /** A rewarded record that could not be decoded (dead-lettered). */
  UNDECODABLE,
  /**
   * A trajectory of this run that decodes but is impossible (NaN or infinite log-probs, mismatched lengths, a token
   * id outside the vocabulary, a sample index or policy version that cannot be): refused and dead-lettered, never
   * trained on.
   */
  INVALID,
  /** A trajectory of this run answering no request in flight (from an abandoned attempt, or already complete). */
  UNEXPECTED,
  /** A second copy of a sample already received. */
  DUPLICATES,
  /** A trajectory sampled more than {@code max-policy-lag} versions ago. */
  DROPPED_STALE,
  /** A trajectory with no response tokens. */
  EMPTY_RESPONSES,
  /** A request given up after {@code reft.learner.reft.request-timeout}, with part of its samples. */
  REQUESTS_TIMED_OUT,
  /** A request no sampler answered within the timeout, sent again for the same problem. */
  REQUESTS_REISSUED;

  /** Prefix of the update-record entries that carry the running totals. */
  public static final String COUNT_PREFIX = "count_";

  /** The lower-case name, such as {@code dropped_stale}. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The Prometheus counter's name. */
  public static final String COUNTER = "reft_learner_events_total";
}
