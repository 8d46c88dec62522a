package dev.reft.learner.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
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
 * The learner scores tokens with the samplers' logit processing: on samples drawn at a temperature other than 1,
 * the log-probs the PPO update uses for the policy equal the behaviour log-probs the sampler recorded — and they
 * do not when the learner is told another temperature than the sampler used.
 */
class SamplingParityTest {

  private static final float SAMPLED_AT = 0.5f;

  @Test
  void theLearnersLogProbsAreTheSamplersAtItsTemperature() {
    assertThat(largestDifference(SAMPLED_AT)).isLessThan(1e-4);
  }

  @Test
  void scoringAtAnotherTemperatureWouldNotMatch() {
    assertThat(largestDifference(1.0f)).isGreaterThan(0.05);
  }

  /** max over response tokens of |log π_learner(a_t) − log μ(a_t)|. */
  private static double largestDifference(float learnerTemperature) {
    List<String> corpus = new ArrayList<>(List.of("Count:", "one two three four five six seven eight nine ten"));
    PolicyTokenizer tokenizer = TokenizerBuilder.builder().build(corpus);
    int[] prompt = tokenizer.encodePrompt("Count:");
    ReftHyperparameters hp = ReftHyperparameters.builder(CotStyle.NCOT).temperature(learnerTemperature)
        .samplesPerQuestion(16).questionsPerBatch(1).maxNewTokens(12).maxPolicyLag(0).maxInFlight(1).build();
    ModelConfig tiny = ModelConfig.tiny(tokenizer.vocabSize());
    ModelConfig sharp = new ModelConfig(tiny.vocabSize(), tiny.dim(), tiny.layers(), tiny.heads(), tiny.kvHeads(),
        tiny.hiddenDim(), tiny.maxSeqLen(), tiny.tieEmbeddings(), 0.3f, tiny.ropeTheta(), tiny.normEps()); // far from uniform
    try (PolicyModel policy = PolicyModel.create(sharp, 5);
        PolicyModel reference = policy.frozenCopy();
        AdamW optimizer = AdamW.builder().setModel(policy).setLearningRate(hp.learningRate()).build()) {
      List<int[]> prompts = new ArrayList<>();
      for (int i = 0; i < hp.samplesPerQuestion(); i++) {
        prompts.add(prompt);
      }
      List<Sample> samples = new Sampler(policy, tokenizer.eos(), tokenizer.pad())
          .generate(prompts, new SamplingParams(SAMPLED_AT, 0, 1.0, hp.maxNewTokens()), 77L);
      List<Rollout> batch = new ArrayList<>();
      for (Sample s : samples) {
        if (s.tokens().length > 0) {
          batch.add(new Rollout(prompt, s.tokens(), s.logProbs(), 0.1f, Outcome.WRONG, 0, "q"));
        }
      }
      assertThat(batch).isNotEmpty();
      float[][] learner = new PpoTrainer(policy, reference, optimizer, hp, tokenizer.pad()).scoreResponses(batch);
      double largest = 0;
      for (int i = 0; i < batch.size(); i++) {
        for (int t = 0; t < learner[i].length; t++) {
          largest = Math.max(largest, Math.abs(learner[i][t] - batch.get(i).behaviourLogProbs()[t]));
        }
      }
      return largest;
    }
  }
}
