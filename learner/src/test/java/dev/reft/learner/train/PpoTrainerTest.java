package dev.reft.learner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import dev.reft.learner.metrics.Metric;
import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.train.AdamW;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Taking π_prox and the values from the first gradient step's own forward pass (one mini-batch per epoch) is the
 * same update as scoring the batch in a separate pass first: the weights after it agree.
 */
class PpoTrainerTest {

  private static final int VOCAB = 24;

  @Test
  void theFusedFirstStepIsTheSameUpdateAsScoringFirst() {
    for (ReftHyperparameters.AdvantageEstimator estimator : ReftHyperparameters.AdvantageEstimator.values()) {
      ReftHyperparameters hp = ReftHyperparameters.builder(CotStyle.NCOT).advantages(estimator).samplesPerQuestion(4)
          .questionsPerBatch(3).learningRate(1e-3).build();
      List<Rollout> batch = batch(new Random(3));
      float[] fused = weightsAfter(hp, batch, true);
      float[] separate = weightsAfter(hp, batch, false);
      float[] start = weightsAfter(hp, batch, null);
      assertThat(maxDifference(fused, start)).as("the update moved the weights (%s)", estimator).isGreaterThan(1e-4);
      assertThat(maxDifference(fused, separate)).as("fused vs separate scoring (%s)", estimator).isLessThan(2e-6);
    }
  }

  @Test
  void microBatchesOfSimilarLengthGiveTheSameUpdateAsOnePass() {
    ReftHyperparameters.Builder b = ReftHyperparameters.builder(CotStyle.NCOT).samplesPerQuestion(4)
        .questionsPerBatch(3).learningRate(1e-3);
    List<Rollout> batch = batch(new Random(8));
    float[] onePass = weightsAfter(b.microBatchSize(0).build(), batch, true);
    float[] micro = weightsAfter(b.microBatchSize(5).build(), batch, true);
    assertThat(maxDifference(onePass, weightsAfter(b.build(), batch, null))).isGreaterThan(1e-4);
    // Micro-batches of 5, 5 and 2 sequences: a wrong weighting between them would change the update's direction;
    // what remains is float rounding in a different summation order (the first AdamW steps amplify it).
    assertThat(maxDifference(onePass, micro)).isLessThan(1e-5);
  }

  @Test
  void theLeaveOneOutVariantLeavesOutALoneSample() {
    ReftHyperparameters hp = ReftHyperparameters.builder(CotStyle.NCOT).advantages(
        ReftHyperparameters.AdvantageEstimator.RLOO).samplesPerQuestion(4).questionsPerBatch(3).build();
    List<Rollout> batch = new ArrayList<>(batch(new Random(9)));
    Rollout lone = batch.get(0);
    batch.add(new Rollout(lone.prompt(), lone.response(), lone.behaviourLogProbs(), 1f, Outcome.CORRECT, 0, "alone"));
    try (PolicyModel policy = PolicyModel.create(ModelConfig.tiny(VOCAB), 7);
        PolicyModel reference = policy.frozenCopy();
        AdamW optimizer = AdamW.builder().setModel(policy).setLearningRate(hp.learningRate()).build()) {
      Map<Metric, Double> stats = new PpoTrainer(policy, reference, optimizer, hp, 0).update(batch, Rng.stream(1, 3));
      // The 12 samples of the three questions trained; the lone correct one did not count in the batch's figures.
      assertThat(stats.get(Metric.ACCURACY)).isCloseTo(
          batch.subList(0, 12).stream().filter(Rollout::correct).count() / 12.0, within(1e-9));
    }
  }

  @Test
  void theFirstStepOfAFusedUpdateSeesRatioOne() {
    ReftHyperparameters hp = ReftHyperparameters.builder(CotStyle.NCOT).ppoEpochs(1).samplesPerQuestion(4)
        .questionsPerBatch(3).build();
    try (PolicyModel policy = PolicyModel.create(ModelConfig.tiny(VOCAB), 7);
        PolicyModel reference = policy.frozenCopy();
        AdamW optimizer = AdamW.builder().setModel(policy).setLearningRate(hp.learningRate()).build()) {
      Map<Metric, Double> stats = new PpoTrainer(policy, reference, optimizer, hp, 0).update(batch(new Random(4)),
          Rng.stream(1, 2));
      assertThat(stats.get(Metric.APPROX_KL)).isCloseTo(0.0, within(1e-7));
      assertThat(stats.get(Metric.CLIP_FRACTION)).isZero();
    }
  }

  /** The flattened weights after one update with or without fusing, or before any update when {@code fuse} is null. */
  private static float[] weightsAfter(ReftHyperparameters hp, List<Rollout> batch, Boolean fuse) {
    try (PolicyModel policy = PolicyModel.create(ModelConfig.tiny(VOCAB), 7);
        PolicyModel reference = policy.frozenCopy();
        AdamW optimizer = AdamW.builder().setModel(policy).setLearningRate(hp.learningRate()).build()) {
      if (fuse != null) {
        new PpoTrainer(policy, reference, optimizer, hp, 0, fuse).update(batch, Rng.stream(5, 6));
      }
      List<Float> all = new ArrayList<>();
      policy.namedParameters().values().forEach(p -> {
        NDArray a = p.getArray();
        for (float f : a.toFloatArray()) {
          all.add(f);
        }
      });
      float[] out = new float[all.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = all.get(i);
      }
      return out;
    }
  }

  /** 3 questions × 4 samples of random tokens, different lengths, random rewards. */
  private static List<Rollout> batch(Random r) {
    List<Rollout> out = new ArrayList<>();
    for (int q = 0; q < 3; q++) {
      int[] prompt = new int[4 + r.nextInt(4)];
      for (int j = 0; j < prompt.length; j++) {
        prompt[j] = 3 + r.nextInt(VOCAB - 3);
      }
      for (int k = 0; k < 4; k++) {
        int[] response = new int[2 + r.nextInt(6)];
        float[] behaviour = new float[response.length];
        for (int j = 0; j < response.length; j++) {
          response[j] = 3 + r.nextInt(VOCAB - 3);
          behaviour[j] = (float) -Math.log(VOCAB) + 0.1f * (float) r.nextGaussian();
        }
        float score = r.nextBoolean() ? 1f : 0.1f;
        out.add(new Rollout(prompt, response, behaviour, score, score == 1f ? Outcome.CORRECT : Outcome.WRONG, 0,
            "q" + q));
      }
    }
    return out;
  }

  private static double maxDifference(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}
