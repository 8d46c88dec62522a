package dev.reft.learner.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reft.learner.rl.ReftHyperparameters.AdvantageEstimator;
import dev.reft.schemas.CotStyle;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReftHyperparametersTest {

  private static ReftHyperparameters from(Map<String, String> keys) {
    return ReftHyperparameters.from(CotStyle.NCOT, k -> Optional.ofNullable(keys.get(k)));
  }

  @Test
  void theDefaultsAreTheOfficialRecipe() {
    ReftHyperparameters n = ReftHyperparameters.defaults(CotStyle.NCOT);
    assertThat(n.klCoef()).isEqualTo(0.05f);
    assertThat(ReftHyperparameters.defaults(CotStyle.PCOT).klCoef()).isEqualTo(0.01f);
    assertThat(n.gamma()).isEqualTo(1.0f);
    assertThat(n.lambda()).isEqualTo(0.95f);
    assertThat(n.clipCoef()).isEqualTo(0.2f);
    assertThat(n.valueClipCoef()).isEqualTo(0.2f);
    assertThat(n.valueLossCoef()).isEqualTo(5.0f);
    assertThat(n.valueDetach()).isFalse();
    assertThat(n.advantages()).isEqualTo(AdvantageEstimator.GAE);
    assertThat(n.ppoEpochs()).isEqualTo(2);
    assertThat(n.weightDecay()).isZero();
    assertThat(n.temperature()).isEqualTo(1.0f);
    // The official one sample per question, over 128 questions.
    assertThat(n.samplesPerQuestion()).isEqualTo(1);
    assertThat(n.trajectoriesPerBatch()).isEqualTo(128);
    // One mini-batch is the whole rollout batch: an update takes ppoEpochs = 2 optimizer steps.
    assertThat(n.sequencesPerStep(n.trajectoriesPerBatch())).isEqualTo(128);
    assertThat(n.toBuilder().build()).isEqualTo(n);
    // On-policy: one batch of requests at a time, sampled by the policy being trained.
    assertThat(n.maxPolicyLag()).isZero();
    assertThat(n.requestsInFlight()).isEqualTo(128);
    assertThat(n.toBuilder().maxPolicyLag(2).build().requestsInFlight()).isEqualTo(256);
    assertThat(n.toBuilder().maxInFlight(140).build().requestsInFlight()).isEqualTo(140);
    assertThatThrownBy(() -> n.toBuilder().maxInFlight(40).build())
        .hasMessageContaining("max-in-flight must be 0 (derived from the lag bound) or at least questions-per-batch (128)");
  }

  @Test
  void keysOverrideTheDefaults() {
    ReftHyperparameters hp = from(Map.of("reft.ppo.kl-coef", "0", "reft.ppo.advantages", "rloo",
        "reft.ppo.value-detach", "true", "reft.ppo.mini-batch-size", "32", "reft.ppo.samples-per-question", " 8 "));
    assertThat(hp.klCoef()).isZero();
    assertThat(hp.advantages()).isEqualTo(AdvantageEstimator.RLOO);
    assertThat(hp.valueDetach()).isTrue();
    assertThat(hp.sequencesPerStep(256)).isEqualTo(32);
    assertThat(hp.samplesPerQuestion()).isEqualTo(8);
    // The critic-free variant trains no value head.
    assertThat(hp.lossCoefficients().valueLossCoef()).isZero();
  }

  @Test
  void aBadValueNamesItsKey() {
    assertThatThrownBy(() -> from(Map.of("reft.ppo.lambda", "high")))
        .hasMessage("reft.ppo.lambda: 'high' is not valid");
    assertThatThrownBy(() -> from(Map.of("reft.ppo.value-detach", "yes")))
        .hasMessage("reft.ppo.value-detach: 'yes' is not valid");
    assertThatThrownBy(() -> from(Map.of("reft.ppo.lambda", "1.5"))).hasMessage("lambda must be in [0, 1]");
    assertThatThrownBy(() -> from(Map.of("reft.ppo.advantages", "rloo", "reft.ppo.samples-per-question", "1")))
        .hasMessageContaining("advantages=rloo needs samples-per-question >= 2");
    // The default K is 1: the variant asks for its own.
    assertThatThrownBy(() -> from(Map.of("reft.ppo.advantages", "rloo")))
        .hasMessageContaining("e.g. 4 with questions-per-batch 32");
  }

  @Test
  void ppoRefusesTruncatedSamplingButAcceptsATemperature() {
    assertThat(from(Map.of("reft.ppo.temperature", "0.7")).requireReproducibleSampling().temperature()).isEqualTo(0.7f);
    assertThatThrownBy(() -> from(Map.of("reft.ppo.top-k", "20")).requireReproducibleSampling())
        .hasMessageContaining("reft.ppo.top-k=20").hasMessageContaining("not supported for PPO");
    assertThatThrownBy(() -> from(Map.of("reft.ppo.top-p", "0.9")).requireReproducibleSampling())
        .hasMessageContaining("top-p=0.9");
  }
}
