package dev.reft.learner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.NoGrad;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.train.AdamW;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The SFT loss trains on the target tokens only: the loss a step reports (that of the forward before the
 * update) equals the mean negative log-likelihood over the target tokens of the mini-batch, computed here from
 * the model run on each example alone. The learning-rate schedule is checked against values worked by hand.
 */
class SftTrainerTest {

  private static final int VOCAB = 23;
  private static final int PAD = 0;

  /** Two examples with different prompt and target lengths: the shorter one is padded in the batch. */
  private static final List<SftTrainer.Example> BATCH = List.of(
      new SftTrainer.Example(new int[] {1, 5, 9, 4, 13, 16}, new int[] {7, 3, 2}), //  s = 6, k = 3
      new SftTrainer.Example(new int[] {1, 17}, new int[] {8, 11, 20, 6, 2})); //       s = 2, k = 5

  @Test
  void theReportedLossIsTheMeanNllOverTargetTokensOnly() {
    try (PolicyModel policy = PolicyModel.create(ModelConfig.tiny(VOCAB), 11);
        AdamW optimizer = AdamW.builder().setModel(policy).setLearningRate(1e-3).build()) {
      // Independently, before the step: −log p of every next token of each example, run alone.
      double targetSum = 0;
      int targetCount = 0;
      double allSum = 0;
      int allCount = 0;
      double perExampleMeanSum = 0;
      for (SftTrainer.Example e : BATCH) {
        int[] seq = concat(e.prompt(), e.target());
        double[] nll = nextTokenNll(policy, seq); // nll[t] = −log p(seq[t + 1] | seq[≤ t])
        double exampleSum = 0;
        for (int t = 0; t < nll.length; t++) {
          allSum += nll[t];
          allCount++;
          if (t + 1 >= e.prompt().length) { // predicts a target token
            targetSum += nll[t];
            targetCount++;
            exampleSum += nll[t];
          }
        }
        perExampleMeanSum += exampleSum / e.target().length;
      }
      assertThat(targetCount).isEqualTo(3 + 5);
      double expected = targetSum / targetCount;
      double overAllTokens = allSum / allCount;
      double meanOfExampleMeans = perExampleMeanSum / BATCH.size();
      // The data must tell the rules apart, or the check below would prove nothing.
      assertThat(Math.abs(overAllTokens - expected)).isGreaterThan(1e-3);
      assertThat(Math.abs(meanOfExampleMeans - expected)).isGreaterThan(1e-3);

      SftTrainer trainer = new SftTrainer(policy, optimizer, new SftTrainer.Schedule(1e-3, 0, 10), 1.0, PAD);
      SftTrainer.StepStats stats = trainer.step(BATCH);

      assertThat(stats.loss()).as("mean NLL over the 8 target tokens (prompt tokens excluded)")
          .isCloseTo(expected, within(1e-5));
      assertThat(optimizer.stepCount()).isEqualTo(1);
    }
  }

  @Test
  void aSingleExamplesLossIsTheMeanOverItsTargetNotOverItsPrompt() {
    SftTrainer.Example e = new SftTrainer.Example(new int[] {1, 4, 4, 9, 12}, new int[] {3, 2});
    int[] seq = concat(e.prompt(), e.target());
    try (PolicyModel policy = PolicyModel.create(ModelConfig.tiny(VOCAB), 5);
        AdamW optimizer = AdamW.builder().setModel(policy).setLearningRate(1e-3).build()) {
      double[] nll = nextTokenNll(policy, seq); // 6 entries; the target tokens are predicted by t = 4 and t = 5
      double expected = (nll[4] + nll[5]) / 2;
      double withPrompt = (nll[0] + nll[1] + nll[2] + nll[3] + nll[4] + nll[5]) / 6;
      assertThat(Math.abs(withPrompt - expected)).isGreaterThan(1e-3);

      SftTrainer trainer = new SftTrainer(policy, optimizer, new SftTrainer.Schedule(1e-3, 0, 10), 1.0, PAD);
      assertThat(trainer.step(List.of(e)).loss()).isCloseTo(expected, within(1e-5));
    }
  }

  @Test
  void stepsFollowTheScheduleAtTheOptimizersStepCount() {
    try (PolicyModel policy = PolicyModel.create(ModelConfig.tiny(VOCAB), 3);
        AdamW optimizer = AdamW.builder().setModel(policy).setLearningRate(123).build()) {
      // peak 1e-3, warm-up 2 of 4 steps: 0.5e-3, 1e-3, then decay 1e-3 · (1 − 0/2), 1e-3 · (1 − 1/2)
      SftTrainer trainer = new SftTrainer(policy, optimizer, new SftTrainer.Schedule(1e-3, 2, 4), 1.0, PAD);
      double[] expected = {0.5e-3, 1e-3, 1e-3, 0.5e-3};
      for (double lr : expected) {
        assertThat(trainer.step(BATCH.subList(0, 1)).learningRate()).isCloseTo(lr, within(1e-12));
        assertThat(optimizer.learningRate()).isCloseTo(lr, within(1e-12));
      }
    }
  }

  @Test
  void scheduleWarmsUpLinearlyThenDecaysLinearlyToZeroAtTotalSteps() {
    SftTrainer.Schedule s = new SftTrainer.Schedule(1.0, 4, 12);
    // warm-up: peak · (step + 1) / 4
    assertThat(s.at(0)).isCloseTo(0.25, within(1e-12));
    assertThat(s.at(1)).isCloseTo(0.5, within(1e-12));
    assertThat(s.at(3)).isCloseTo(1.0, within(1e-12));
    // decay over 12 − 4 = 8 steps: peak · (1 − (step − 4) / 8)
    assertThat(s.at(4)).isCloseTo(1.0, within(1e-12));
    assertThat(s.at(6)).isCloseTo(0.75, within(1e-12));
    assertThat(s.at(8)).isCloseTo(0.5, within(1e-12));
    assertThat(s.at(11)).isCloseTo(0.125, within(1e-12));
    assertThat(s.at(12)).isZero();
    assertThat(s.at(30)).as("past the end it stays at 0").isZero();
  }

  @Test
  void scheduleWithoutWarmUpStartsAtThePeak() {
    SftTrainer.Schedule s = new SftTrainer.Schedule(2e-5, 0, 10);
    assertThat(s.at(0)).isCloseTo(2e-5, within(1e-15));
    assertThat(s.at(5)).isCloseTo(1e-5, within(1e-15));
    assertThat(s.at(9)).isCloseTo(2e-6, within(1e-15));
    assertThat(s.at(10)).isZero();
  }

  /** −log p(seq[t + 1] | seq[≤ t]) for t = 0 … T − 2, from the model run on {@code seq} alone, in double. */
  @SuppressWarnings("try")
  private static double[] nextTokenNll(PolicyModel policy, int[] seq) {
    float[] logits;
    try (NoGrad ignored = NoGrad.enter(); NDManager m = policy.newBatchManager()) {
      TokenBatch one = TokenBatch.rightPadded(m, List.of(seq), PAD);
      logits = policy.forward(one.tokens(), one.attentionMask()).logits().toFloatArray(); // (1, T, V)
    }
    double[] nll = new double[seq.length - 1];
    for (int t = 0; t < nll.length; t++) {
      nll[t] = -ResponseGridTest.logSoftmaxAt(logits, VOCAB, t, seq[t + 1]);
    }
    return nll;
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = new int[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
