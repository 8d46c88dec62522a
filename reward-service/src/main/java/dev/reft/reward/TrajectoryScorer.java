package dev.reft.reward;

import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.tasks.Grade;
import dev.reft.tasks.Grader;
import dev.reft.tasks.sandbox.SandboxUnavailableException;
import java.time.Duration;

/**
 * Grades one sampled trajectory with the ReFT reward of {@code tasks} ({@link Grader}) and wraps the
 * result as a {@link RewardedTrajectory}. Thread-safe: every stream thread calls it.
 *
 * <p>A sandbox that is momentarily unavailable (every worker being replaced on a loaded machine) is not the
 * trajectory's fault: grading waits and retries, up to {@code maxWait}, instead of dead-lettering a good
 * record. After that the {@link SandboxUnavailableException} stops the stream thread (see
 * {@link FailOnInfrastructureHandler}); exactly-once processing then resumes from the last commit.
 */
public final class TrajectoryScorer {

  private final Grader grader;
  private final String scorerId;
  private final Duration maxWait;

  public TrajectoryScorer(Grader grader, String scorerId) {
    this(grader, scorerId, Duration.ofMinutes(5));
  }

  public TrajectoryScorer(Grader grader, String scorerId, Duration maxWait) {
    this.grader = grader;
    this.scorerId = scorerId;
    this.maxWait = maxWait;
  }

  /** The graded record: the sampled one unchanged, plus reward, outcome, extracted answer and timing. */
  public RewardedTrajectory score(SampledTrajectory t) {
    return gradeWaitingForTheSandbox(t).toRecord(t, scorerId);
  }

  private Grade gradeWaitingForTheSandbox(SampledTrajectory t) {
    long deadline = System.nanoTime() + maxWait.toNanos();
    long backoffMillis = 200;
    while (true) {
      try {
        return grader.grade(t.getStyle(), t.getQuestion(), t.getResponseText(), t.getGoldAnswer());
      } catch (SandboxUnavailableException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        try {
          Thread.sleep(backoffMillis);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
        backoffMillis = Math.min(5_000, backoffMillis * 2);
      }
    }
  }
}
