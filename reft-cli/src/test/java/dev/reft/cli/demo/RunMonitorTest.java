package dev.reft.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.learner.metrics.Metric;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rollout progress line shows what an update reports, and nothing it does not (no "KL NaN", no "0 tokens/s"). */
class RunMonitorTest {

  @Test
  void aPpoUpdateShowsItsKlLagAndSpeed() {
    Map<String, Double> ppo = Map.of(Metric.KL_TO_REF.key(), 0.5, Metric.POLICY_LAG_MEAN.key(), 1.25,
        Metric.TOKENS_PER_SECOND.key(), 8123.4, Metric.REWARD_MEAN.key(), 0.4);
    assertThat(RunMonitor.rolloutMetrics(ppo)).isEqualTo("  KL 0.50  lag 1.3  8,123 tokens/s");
  }

  @Test
  void anOnlineStUpdateShowsItsLossAndNoKl() {
    Map<String, Double> onlineSt = Map.of(Metric.SFT_LOSS.key(), 0.125, Metric.POLICY_LAG_MEAN.key(), 0.0,
        Metric.TOKENS_PER_SECOND.key(), 950.0);
    assertThat(RunMonitor.rolloutMetrics(onlineSt)).isEqualTo("  loss 0.125  lag 0.0  950 tokens/s");
    // A batch without a correct sample trains nothing: neither loss nor speed.
    assertThat(RunMonitor.rolloutMetrics(Map.of(Metric.POLICY_LAG_MEAN.key(), 0.0))).isEqualTo("  lag 0.0");
  }
}
