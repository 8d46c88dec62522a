package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.learner.metrics.Metric;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The learner's per-update log line leaves out what the trainer does not report, rather than printing NaN. */
class RolloutRunTest {

  @Test
  void aPpoUpdateLineHasItsKlEntropyAndClipping() {
    Map<Metric, Double> ppo = Map.of(Metric.REWARD_MEAN, 0.5, Metric.ACCURACY, 0.25, Metric.KL_TO_REF, 1.5,
        Metric.ENTROPY, 0.75, Metric.APPROX_KL, 0.0125, Metric.CLIP_FRACTION, 0.125, Metric.POLICY_LAG_MEAN, 0.5,
        Metric.POLICY_LAG_MAX, 2.0, Metric.TOKENS_PER_SECOND, 4000.0, Metric.UPDATE_SECONDS, 2.25);
    assertThat(RolloutRun.line(ppo)).isEqualTo("reward 0.500, accuracy 0.250, kl_to_ref 1.500, entropy 0.750, "
        + "approx_kl 0.0125, clip 0.125, lag 0.50/2, 4000 tokens/s, 2.3 s");
  }

  @Test
  void anOnlineStUpdateLineHasItsLossAndNoNaN() {
    Map<Metric, Double> onlineSt = Map.of(Metric.REWARD_MEAN, 0.5, Metric.ACCURACY, 0.25, Metric.SFT_LOSS, 0.0625,
        Metric.POLICY_LAG_MEAN, 0.0, Metric.POLICY_LAG_MAX, 0.0, Metric.TOKENS_PER_SECOND, 900.0,
        Metric.UPDATE_SECONDS, 1.0);
    assertThat(RolloutRun.line(onlineSt))
        .isEqualTo("reward 0.500, accuracy 0.250, sft_loss 0.0625, lag 0.00/0, 900 tokens/s, 1.0 s")
        .doesNotContain("NaN");
  }
}
