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
 *
 * <p>A scorer made {@link #withoutPrograms} ({@code reft.sandbox.mode=off}) refuses P-CoT trajectories at once with
 * {@link ProgramsNotGraded}: waiting would not help, so the record is dead-lettered with that reason instead of
 * stopping the stream thread again and again.
 */
public final class TrajectoryScorer {

  private final Grader grader;
  private final String scorerId;
  private final Duration maxWait;
  private final boolean programsOff;

  public TrajectoryScorer(Grader grader, String scorerId) {
    this(grader, scorerId, Duration.ofMinutes(5));
  }

  public TrajectoryScorer(Grader grader, String scorerId, Duration maxWait) {
    this(grader, scorerId, maxWait, false);
  }

  private TrajectoryScorer(Grader grader, String scorerId, Duration maxWait, boolean programsOff) {
    this.grader = grader;
    this.scorerId = scorerId;
    this.maxWait = maxWait;
    this.programsOff = programsOff;
  }

  /**
   * A scorer of a service whose sandbox is turned off by configuration: N-CoT and MCQ are graded, P-CoT
   * trajectories are refused with {@link ProgramsNotGraded} (dead-lettered with that reason).
   */
  public static TrajectoryScorer withoutPrograms(String scorerId) {
    return new TrajectoryScorer(Grader.textOnly(), scorerId, Duration.ZERO, true);
  }

  /** The graded record: the sampled one unchanged, plus reward, outcome, extracted answer and timing. */
  public RewardedTrajectory score(SampledTrajectory t) {
    if (programsOff && t.getStyle() == dev.reft.schemas.CotStyle.PCOT) {
      throw new ProgramsNotGraded("P-CoT trajectory " + t.getRequestId() + "#" + t.getSampleIndex() + " of run "
          + t.getRunId() + " not graded: the P-CoT sandbox is off on this reward service (reft.sandbox.mode=off); "
          + "run the reward service with reft.sandbox.mode=pooled for P-CoT runs");
    }
    return gradeWaitingForTheSandbox(t).toRecord(t, scorerId);
  }

  /** A P-CoT trajectory reached a reward service whose sandbox is off: the record, not the service, is refused. */
  public static final class ProgramsNotGraded extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ProgramsNotGraded(String message) {
      super(message);
    }
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
