package dev.reft.schemas;

import java.util.List;
import java.util.Optional;

/**
 * What a well-formed {@link SampledTrajectory} must satisfy before anyone grades or trains on it. A record can
 * decode and still be impossible — a NaN log-probability would turn a PPO update's loss into NaN and every weight
 * after it; a negative token id would fail the embedding lookup in the middle of an update — so the reward service
 * dead-letters such records instead of grading them, and the learner refuses them (counted, dead-lettered) instead
 * of training on them.
 */
public final class TrajectoryChecks {

  /** Longest response text a trajectory may carry (characters); a chain of thought is a few hundred. */
  public static final int MAX_RESPONSE_CHARS = 65_536;

  /** A log-probability is at most 0; this much above it is float rounding. */
  private static final double LOG_PROB_SLACK = 1e-3;

  private TrajectoryChecks() {}

  /**
   * Why the trajectory is impossible, or empty when it is well-formed: a negative sample index or policy version,
   * response tokens and behaviour log-probabilities of different lengths, a negative token id (or one at or above
   * {@code vocabSize} when that is positive), a log-probability that is NaN, infinite or above 0, or a response text
   * longer than {@value #MAX_RESPONSE_CHARS} characters.
   *
   * @param vocabSize the policy's vocabulary size, or 0 when the caller does not know it
   */
  public static Optional<String> problem(SampledTrajectory t, int vocabSize) {
    if (t.getSampleIndex() < 0) {
      return Optional.of("negative sample index " + t.getSampleIndex());
    }
    if (t.getPolicyVersion() < 0) {
      return Optional.of("negative policy version " + t.getPolicyVersion());
    }
    List<Integer> response = t.getResponseTokenIds();
    List<Float> logProbs = t.getBehaviourLogprobs();
    if (response.size() != logProbs.size()) {
      return Optional.of(logProbs.size() + " behaviour log-probs for " + response.size() + " response tokens");
    }
    Optional<String> bad = tokens("prompt", t.getPromptTokenIds(), vocabSize);
    if (bad.isPresent()) {
      return bad;
    }
    bad = tokens("response", response, vocabSize);
    if (bad.isPresent()) {
      return bad;
    }
    for (int i = 0; i < logProbs.size(); i++) {
      Float lp = logProbs.get(i);
      if (lp == null || !Float.isFinite(lp) || lp > LOG_PROB_SLACK) {
        return Optional.of("behaviour log-prob " + lp + " at position " + i + " (must be finite and <= 0)");
      }
    }
    if (t.getResponseText() != null && t.getResponseText().length() > MAX_RESPONSE_CHARS) {
      return Optional.of("response text of " + t.getResponseText().length() + " characters (at most "
          + MAX_RESPONSE_CHARS + ")");
    }
    return Optional.empty();
  }

  private static Optional<String> tokens(String what, List<Integer> ids, int vocabSize) {
    for (int i = 0; i < ids.size(); i++) {
      Integer id = ids.get(i);
      if (id == null || id < 0 || (vocabSize > 0 && id >= vocabSize)) {
        return Optional.of(what + " token id " + id + " at position " + i
            + (vocabSize > 0 ? " (vocabulary 0.." + (vocabSize - 1) + ")" : " (negative)"));
      }
    }
    return Optional.empty();
  }
}
