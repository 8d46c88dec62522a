package dev.reft.learner.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** The PPO loss on batches small enough to work out by hand (arithmetic in the comments). */
class PpoLossTest {

  private static final PpoLoss.Coefficients REFT = new PpoLoss.Coefficients(0.2f, 0.2f, 5f, 2f);

  private static NDArray row(NDManager m, float... values) {
    return m.create(values, new Shape(1, values.length));
  }

  @Test
  void clippedSurrogateAndClippedValueLossMatchTheHandComputation() {
    try (NDManager m = NDManager.newBaseManager()) {
      float prox = -1f;
      PpoLoss.Batch batch = new PpoLoss.Batch(
          row(m, prox + (float) Math.log(1.5), prox + (float) Math.log(0.9)), // ratio = (1.5, 0.9)
          row(m, 0.5f, 1.0f), //   V_θ
          row(m, prox, prox), //   log π_prox
          row(m, prox, prox), //   log μ = log π_prox → w = 1
          row(m, 0.2f, 1.0f), //   V_old
          row(m, 1f, -2f), //      Â
          row(m, 1.0f, 0.0f), //   R
          row(m, 1f, 1f));
      PpoLoss.Result r = PpoLoss.compute(batch, REFT, m);
      // token 0: Â = 1,  ratio 1.5: max(−1.5, −1·1.2) = −1.2
      // token 1: Â = −2, ratio 0.9 (inside the clip range): max(1.8, 1.8) = 1.8
      // policy loss = (−1.2 + 1.8) / 2 = 0.3
      assertThat(r.policyLoss().getFloat()).isCloseTo(0.3f, within(1e-5f));
      // token 0: (0.5 − 1)² = 0.25; clipped V = 0.2 + clip(0.3, ±0.2) = 0.4 → (0.4 − 1)² = 0.36 → 0.36
      // token 1: (1 − 0)² = 1; clipped V = 1 → 1 → 1
      // value loss = ½ · (0.36 + 1) / 2 = 0.34
      assertThat(r.valueLoss().getFloat()).isCloseTo(0.34f, within(1e-5f));
      // L = 0.3 + 5 · 0.34 = 2.0
      assertThat(r.loss().getFloat()).isCloseTo(2.0f, within(1e-5f));
      // approx KL: ((0.5 − ln 1.5) + (−0.1 − ln 0.9)) / 2 = (0.0945349 + 0.0053605) / 2 = 0.0499477
      assertThat(r.approxKl()).isCloseTo(0.0499477f, within(1e-5f));
      // |1.5 − 1| > 0.2 clips, |0.9 − 1| does not
      assertThat(r.clipFraction()).isCloseTo(0.5f, within(1e-6f));
      assertThat(r.importanceWeight()).isCloseTo(1f, within(1e-6f));
      assertThat(r.truncatedFraction()).isZero();
    }
  }

  @Test
  void staleTokensAreWeightedByTheTruncatedImportanceWeight() {
    try (NDManager m = NDManager.newBaseManager()) {
      float prox = -1f;
      PpoLoss.Batch batch = new PpoLoss.Batch(
          row(m, prox + (float) Math.log(1.5), prox + (float) Math.log(0.9)),
          row(m, 0f, 0f),
          row(m, prox, prox),
          // token 0: π_prox / μ = 4 → truncated to c = 2; token 1: π_prox / μ = 0.5
          row(m, prox - (float) Math.log(4), prox + (float) Math.log(2)),
          row(m, 0f, 0f),
          row(m, 1f, -2f),
          row(m, 0f, 0f),
          row(m, 1f, 1f));
      PpoLoss.Result r = PpoLoss.compute(batch, REFT, m);
      // token 0: 2 · (−1.2) = −2.4; token 1: 0.5 · 1.8 = 0.9 → (−2.4 + 0.9) / 2 = −0.75
      assertThat(r.policyLoss().getFloat()).isCloseTo(-0.75f, within(1e-5f));
      assertThat(r.importanceWeight()).isCloseTo(1.25f, within(1e-5f)); // (2 + 0.5) / 2
      assertThat(r.truncatedFraction()).isCloseTo(0.5f, within(1e-6f));
      assertThat(r.valueLoss().getFloat()).isZero();
    }
  }

  @Test
  void averagesOverTokensOfEachSequenceThenOverSequences() {
    try (NDManager m = NDManager.newBaseManager()) {
      // Sequence 0 has one real token with loss 3; sequence 1 has three tokens with loss 1 each.
      NDArray perToken = m.create(new float[] {3f, 9f, 9f, 1f, 1f, 1f}, new Shape(2, 3));
      NDArray mask = m.create(new float[] {1f, 0f, 0f, 1f, 1f, 1f}, new Shape(2, 3));
      // per sequence: 3 and 1 → 2; (a token mean would give 6 / 4 = 1.5; padding must not count)
      assertThat(PpoLoss.meanPerSequenceThenBatch(perToken, mask).getFloat()).isCloseTo(2f, within(1e-6f));
    }
  }

  @Test
  void gradientOfTheSurrogateVanishesOutsideTheClipRangeOnly() {
    try (NDManager m = NDManager.newBaseManager()) {
      float prox = -1f;
      NDArray logProbs = row(m, prox + (float) Math.log(1.5), prox + (float) Math.log(0.9));
      logProbs.setRequiresGradient(true);
      NDArray values = row(m, 0f, 0f);
      values.setRequiresGradient(true);
      PpoLoss.Batch batch = new PpoLoss.Batch(logProbs, values, row(m, prox, prox), row(m, prox, prox),
          row(m, 0f, 0f), row(m, 1f, -2f), row(m, 0f, 0f), row(m, 1f, 1f));
      try (var collector = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
        collector.backward(PpoLoss.compute(batch, REFT, m).loss());
      }
      float[] grad = logProbs.getGradient().toFloatArray();
      // token 0 is clipped (ratio 1.5 > 1.2 with Â > 0): no gradient.
      assertThat(grad[0]).isCloseTo(0f, within(1e-7f));
      // token 1: d/dlogπ of ½ · (−Â · ratio) = ½ · 2 · 0.9 = 0.9
      assertThat(grad[1]).isCloseTo(0.9f, within(1e-5f));
    }
  }
}
