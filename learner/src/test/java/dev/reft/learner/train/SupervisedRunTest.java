package dev.reft.learner.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.nn.Parameter;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.train.AdamW;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Epochs of SFT: with {@code keepBest} the run hands back a copy of the weights of the best-scoring epoch (the
 * first one, if several tie), not the last; without it, the trained model itself.
 */
class SupervisedRunTest {

  private static final int VOCAB = 23;

  /** 5 examples in batches of 2: 3 steps per epoch. */
  private static final List<SftTrainer.Example> EXAMPLES = List.of(
      new SftTrainer.Example(new int[] {1, 5, 9}, new int[] {7, 2}),
      new SftTrainer.Example(new int[] {1, 17}, new int[] {8, 11, 2}),
      new SftTrainer.Example(new int[] {1, 4, 4, 6}, new int[] {3, 2}),
      new SftTrainer.Example(new int[] {1, 12}, new int[] {20, 2}),
      new SftTrainer.Example(new int[] {1, 13, 14}, new int[] {15, 16, 2}));

  private static final SupervisedRun.StepListener QUIET = (e, s, n, last, mean, tps) -> { };

  private static Map<String, float[]> snapshot(PolicyModel model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
      out.put(e.getKey(), e.getValue().getArray().toFloatArray());
    }
    return out;
  }

  private static void assertSameWeights(Map<String, float[]> actual, Map<String, float[]> expected) {
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    expected.forEach((name, values) -> assertThat(actual.get(name)).as(name).isEqualTo(values));
  }

  private static boolean sameWeights(Map<String, float[]> a, Map<String, float[]> b) {
    return a.keySet().stream().allMatch(name -> java.util.Arrays.equals(a.get(name), b.get(name)));
  }

  @Test
  void keepBestReturnsACopyOfTheBestScoringEpochsWeights() {
    try (PolicyModel model = PolicyModel.create(ModelConfig.tiny(VOCAB), 4);
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(1e-3).build()) {
      SftTrainer trainer = new SftTrainer(model, optimizer, new SftTrainer.Schedule(1e-3, 0, 1000), 1.0, 0);
      SupervisedRun run = new SupervisedRun(trainer, EXAMPLES, 2);
      assertThat(run.stepsPerEpoch()).isEqualTo(3);

      // Epoch scores 0.1, 0.5, 0.3, 0.5: the best is epoch 2 (epoch 4 only ties it).
      double[] scripted = {0.1, 0.5, 0.3, 0.5};
      Map<Integer, Map<String, float[]>> weightsAt = new HashMap<>();
      SupervisedRun.EpochScore score = (m, epoch) -> {
        assertThat(m).isSameAs(model);
        weightsAt.put(epoch, snapshot(m));
        return scripted[epoch - 1];
      };
      List<SupervisedRun.Epoch> epochs = new ArrayList<>();
      AtomicInteger steps = new AtomicInteger();
      SupervisedRun.StepListener countSteps = (e, s, n, last, mean, tps) -> steps.incrementAndGet();

      PolicyModel best = run.train(model, 4, new Rng(1), countSteps, score, true, epochs::add, () -> true);
      try {
        assertThat(steps.get()).isEqualTo(4 * 3);
        assertThat(epochs).extracting(SupervisedRun.Epoch::score).containsExactly(0.1, 0.5, 0.3, 0.5);
        assertThat(epochs).extracting(SupervisedRun.Epoch::epoch).containsExactly(1, 2, 3, 4);
        // Training moved the weights between epochs, so the comparison below can tell the epochs apart.
        assertThat(sameWeights(weightsAt.get(2), weightsAt.get(3))).isFalse();
        assertThat(sameWeights(weightsAt.get(2), weightsAt.get(4))).isFalse();

        assertThat(best).isNotSameAs(model);
        assertSameWeights(snapshot(best), weightsAt.get(2));
        assertSameWeights(snapshot(model), weightsAt.get(4)); // the trained model itself is left at the last epoch
      } finally {
        best.close();
      }
    }
  }

  @Test
  void withoutKeepBestOrWithoutAScoreTheTrainedModelItselfIsReturned() {
    try (PolicyModel model = PolicyModel.create(ModelConfig.tiny(VOCAB), 4);
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(1e-3).build()) {
      SftTrainer trainer = new SftTrainer(model, optimizer, new SftTrainer.Schedule(1e-3, 0, 1000), 1.0, 0);
      SupervisedRun run = new SupervisedRun(trainer, EXAMPLES, 2);
      List<Double> scores = new ArrayList<>();
      PolicyModel returned = run.train(model, 2, new Rng(1), QUIET, (m, e) -> 1.0 / e, false,
          ep -> scores.add(ep.score()), () -> true);
      assertThat(returned).isSameAs(model);
      assertThat(scores).containsExactly(1.0, 0.5); // still scored, just not kept

      List<SupervisedRun.Epoch> unscored = new ArrayList<>();
      assertThat(run.train(model, 1, new Rng(2), QUIET, null, true, unscored::add, () -> true)).isSameAs(model);
      assertThat(unscored).hasSize(1);
      assertThat(unscored.get(0).score()).isNaN();
    }
  }

  @Test
  void aRunThatIsStoppedEndsBetweenSteps() {
    try (PolicyModel model = PolicyModel.create(ModelConfig.tiny(VOCAB), 4);
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(1e-3).build()) {
      SftTrainer trainer = new SftTrainer(model, optimizer, new SftTrainer.Schedule(1e-3, 0, 1000), 1.0, 0);
      SupervisedRun run = new SupervisedRun(trainer, EXAMPLES, 2);
      AtomicInteger steps = new AtomicInteger();
      SupervisedRun.StepListener countSteps = (e, s, n, last, mean, tps) -> steps.incrementAndGet();
      List<Double> scored = new ArrayList<>();
      // running turns false after the 4th step: epoch 1 (3 steps) completes, epoch 2 stops after its first step
      PolicyModel returned = run.train(model, 5, new Rng(1), countSteps, (m, e) -> {
        scored.add((double) e);
        return e;
      }, true, ep -> { }, () -> steps.get() < 4);
      try {
        assertThat(steps.get()).isEqualTo(4);
        assertThat(optimizer.stepCount()).isEqualTo(4);
        assertThat(scored).as("the interrupted epoch is not scored").containsExactly(1.0);
        assertThat(returned).isNotSameAs(model); // the copy of epoch 1, the only scored one
      } finally {
        if (returned != model) {
          returned.close();
        }
      }
    }
  }
}
