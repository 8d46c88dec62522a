package dev.reft.reward;

import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.tasks.Grade;
import dev.reft.tasks.Grader;
import java.time.Instant;

/**
 * Grades one sampled trajectory with the ReFT reward of {@code tasks} ({@link Grader}) and wraps the
 * result as a {@link RewardedTrajectory}. Thread-safe: every stream thread calls it.
 */
public final class TrajectoryScorer {

  private final Grader grader;
  private final String scorerId;

  public TrajectoryScorer(Grader grader, String scorerId) {
    this.grader = grader;
    this.scorerId = scorerId;
  }

  /** The graded record: the sampled one unchanged, plus reward, outcome, extracted answer and timing. */
  public RewardedTrajectory score(SampledTrajectory t) {
    Grade grade = grader.grade(t.getStyle(), t.getQuestion(), t.getResponseText(), t.getGoldAnswer());
    return RewardedTrajectory.newBuilder()
        .setTrajectory(t)
        .setReward(grade.reward())
        .setOutcome(grade.outcome())
        .setExtractedAnswer(grade.extractedAnswer())
        .setError(grade.error())
        .setExecutionMicros(grade.micros())
        .setRewardRule(Grader.REWARD_RULE)
        .setScorerId(scorerId)
        .setCreatedAt(Instant.now())
        .build();
  }
}
