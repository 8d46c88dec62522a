package dev.reft.reward;

import dev.reft.schemas.RewardStats;
import dev.reft.schemas.RewardedTrajectory;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** Running totals of graded trajectories per (run, policy version): the {@code reft.reward.stats} table. */
public final class RewardStatsAggregator {

  private RewardStatsAggregator() {}

  /** The grouping key of a graded trajectory: {@code <run id>/<policy version>}. */
  public static String key(RewardedTrajectory r) {
    return r.getTrajectory().getRunId() + "/" + r.getTrajectory().getPolicyVersion();
  }

  /** Totals before the first trajectory. */
  public static RewardStats empty() {
    return RewardStats.newBuilder()
        .setRunId("")
        .setPolicyVersion(-1)
        .setCount(0)
        .setRewardSum(0)
        .setMeanReward(0)
        .setCorrect(0)
        .setAccuracy(0)
        .setOutcomeCounts(Map.of())
        .setResponseTokensSum(0)
        .setMeanResponseLength(0)
        .setUpdatedAt(Instant.EPOCH)
        .build();
  }

  /** Totals after adding one graded trajectory. */
  public static RewardStats add(String key, RewardedTrajectory r, RewardStats before) {
    long count = before.getCount() + 1;
    double rewardSum = before.getRewardSum() + r.getReward();
    long correct = before.getCorrect() + (r.getOutcome() == dev.reft.schemas.Outcome.CORRECT ? 1 : 0);
    long tokens = before.getResponseTokensSum() + r.getTrajectory().getResponseTokenIds().size();
    Map<String, Long> outcomes = new HashMap<>(before.getOutcomeCounts());
    outcomes.merge(r.getOutcome().name(), 1L, Long::sum);
    return RewardStats.newBuilder()
        .setRunId(r.getTrajectory().getRunId())
        .setPolicyVersion(r.getTrajectory().getPolicyVersion())
        .setCount(count)
        .setRewardSum(rewardSum)
        .setMeanReward(rewardSum / count)
        .setCorrect(correct)
        .setAccuracy((double) correct / count)
        .setOutcomeCounts(outcomes)
        .setResponseTokensSum(tokens)
        .setMeanResponseLength((double) tokens / count)
        .setUpdatedAt(Instant.now())
        .build();
  }
}
