package dev.reft.learner.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.learner.metrics.Metric;
import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.sampling.SamplingParams;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import dev.reft.policy.train.AdamW;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.Outcome;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PPO must learn from reward alone: a random tiny model asked "Say a digit:" is rewarded 1 for answering 7,
 * 0.1 for another digit (an answer, but wrong — ReFT's partial reward) and 0 otherwise, with the KL
 * penalty on (β > 0). A few hundred updates must raise the mean reward well above where it started.
 */
class PpoLearningSignalTest {

  @Test
  void ppoRaisesTheRewardOfARandomModelWithTheKlPenaltyOn() {
    raisesTheReward(base().build());
  }

  @Test
  void theCriticFreeGroupBaselineVariantRaisesItToo() {
    raisesTheReward(base().advantages(ReftHyperparameters.AdvantageEstimator.RLOO).build());
  }

  /** One question, 64 samples of up to 2 tokens per update; the reward asks for the digit 7. */
  private static ReftHyperparameters.Builder base() {
    return ReftHyperparameters.builder(CotStyle.NCOT).klCoef(0.05f).learningRate(1e-3).samplesPerQuestion(64)
        .questionsPerBatch(1).maxNewTokens(2).miniBatchSize(32).maxPolicyLag(0).maxInFlight(1);
  }

  private static void raisesTheReward(ReftHyperparameters hp) {
    List<String> corpus = new ArrayList<>(List.of("Say a digit:"));
    for (int d = 0; d <= 9; d++) {
      corpus.add(Integer.toString(d));
    }
    PolicyTokenizer tokenizer = TokenizerBuilder.builder().build(corpus);
    int[] prompt = tokenizer.encodePrompt("Say a digit:");

    try (PolicyModel policy = PolicyModel.create(ModelConfig.tiny(tokenizer.vocabSize()), 3);
        PolicyModel reference = policy.frozenCopy();
        AdamW optimizer = AdamW.builder().setModel(policy).setLearningRate(hp.learningRate()).build()) {
      PpoTrainer trainer = new PpoTrainer(policy, reference, optimizer, hp, tokenizer.pad());
      Sampler sampler = new Sampler(policy, tokenizer.eos(), tokenizer.pad());
      Rng rng = Rng.stream(42, 0);
      List<Double> rewards = new ArrayList<>();
      double kl = 0;
      for (int update = 0; update < 150; update++) {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < hp.samplesPerQuestion(); i++) {
          prompts.add(prompt);
        }
        List<Sample> samples = sampler.generate(prompts, SamplingParams.reft(hp.maxNewTokens()), 1000L + update);
        List<Rollout> batch = new ArrayList<>();
        for (Sample s : samples) {
          String answer = tokenizer.decode(s.tokens()).strip();
          float score = answer.startsWith("7") ? 1f : !answer.isEmpty() && Character.isDigit(answer.charAt(0)) ? 0.1f : 0f;
          Outcome outcome = score == 1f ? Outcome.CORRECT : score > 0 ? Outcome.WRONG : Outcome.NO_ANSWER;
          batch.add(new Rollout(prompt, s.tokens(), s.logProbs(), score, outcome, update, "question"));
        }
        var stats = trainer.update(batch, rng);
        rewards.add(stats.get(Metric.REWARD_MEAN));
        kl = stats.get(Metric.KL_TO_REF);
      }
      double first = rewards.subList(0, 10).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
      double last = rewards.subList(rewards.size() - 10, rewards.size()).stream().mapToDouble(Double::doubleValue)
          .average().orElseThrow();
      assertThat(last).as("mean reward of the last 10 updates vs the first 10 (%.3f)", first)
          .isGreaterThan(first + 0.3).isGreaterThan(0.5);
      assertThat(kl).as("the policy moved away from the reference, the KL penalty notwithstanding").isPositive();
    }
  }
}
