package dev.reft.tasks;

import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import java.time.Instant;
import java.util.Objects;

/**
 * The result of grading one chain of thought with the ReFT reward rule.
 *
 * @param outcome why the reward is what it is
 * @param reward 1 for {@link Outcome#CORRECT}, 0.1 for {@link Outcome#WRONG}, 0 otherwise
 * @param extractedAnswer the answer found (N-CoT: canonical number or letter; P-CoT: the return value), or null
 * @param error a short reason for EXEC_ERROR, TIMEOUT, SANDBOX_VIOLATION and P-CoT NO_ANSWER, else null
 * @param micros time spent grading (P-CoT: executing the program), microseconds
 */
public record Grade(Outcome outcome, float reward, String extractedAnswer, String error, long micros) {

  /** Reward for a correct answer. */
  public static final float CORRECT_REWARD = 1.0f;
  /** Reward for an answer that was extracted but is wrong (ReFT's partial reward). */
  public static final float WRONG_REWARD = 0.1f;

  public Grade {
    Objects.requireNonNull(outcome, "outcome");
  }

  /** The ReFT reward of an outcome: 1, 0.1, or 0. */
  public static float rewardOf(Outcome outcome) {
    return switch (outcome) {
      case CORRECT -> CORRECT_REWARD;
      case WRONG -> WRONG_REWARD;
      default -> 0.0f;
    };
  }

  /** A grade with the reward that belongs to its outcome. */
  public static Grade of(Outcome outcome, String extractedAnswer, String error, long micros) {
    return new Grade(outcome, rewardOf(outcome), extractedAnswer, error, micros);
  }

  /**
   * The graded record of a sampled trajectory: the trajectory unchanged, plus this grade, the reward rule and who
   * graded it — what the reward service publishes, and what a re-scoring replay writes.
   *
   * @param trajectory the sampled trajectory this grade is of
   * @param scorerId the grading instance ({@code reft.reward.instance-id}, or {@code reft-replay})
   */
  public RewardedTrajectory toRecord(SampledTrajectory trajectory, String scorerId) {
    return RewardedTrajectory.newBuilder()
        .setTrajectory(trajectory)
        .setReward(reward)
        .setOutcome(outcome)
        .setExtractedAnswer(extractedAnswer)
        .setError(error)
        .setExecutionMicros(micros)
        .setRewardRule(Grader.REWARD_RULE)
        .setScorerId(scorerId)
        .setCreatedAt(Instant.now())
        .build();
  }

  /** Whether the answer was correct. */
  public boolean correct() {
    return outcome == Outcome.CORRECT;
  }
}
