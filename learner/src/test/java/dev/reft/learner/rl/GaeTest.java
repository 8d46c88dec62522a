package dev.reft.learner.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Each expected number is worked out by hand in the comments. */
class GaeTest {

  @Test
  void klShapedRewardsPenaliseEveryTokenAndPayTheScoreOnTheLast() {
    float[][] old = {{-1.0f, -2.0f, -0.5f}, {-0.1f}};
    float[][] ref = {{-1.5f, -1.0f, -0.5f}, {-0.3f}};
    float[] scores = {1.0f, 0.1f};
    float beta = 0.05f;
    float[][] r = Gae.klShapedRewards(old, ref, scores, beta);
    // seq 0: kl = (0.5, -1.0, 0.0) → −β·kl = (−0.025, 0.05, 0); last += 1 → 1.0
    assertThat(r[0][0]).isCloseTo(-0.025f, within(1e-7f));
    assertThat(r[0][1]).isCloseTo(0.05f, within(1e-7f));
    assertThat(r[0][2]).isCloseTo(1.0f, within(1e-7f));
    // seq 1: kl = 0.2 → −0.01; it is also the last token: −0.01 + 0.1 = 0.09
    assertThat(r[1][0]).isCloseTo(0.09f, within(1e-7f));
  }

  @Test
  void gaeMatchesTheRecursionWorkedByHand() {
    float[][] rewards = {{0.0f, 0.0f, 1.0f}};
    float[][] values = {{0.5f, 0.6f, 0.7f}};
    float gamma = 1.0f;
    float lambda = 0.95f;
    Gae.Estimate e = Gae.estimate(rewards, values, gamma, lambda);
    // t=2: δ = 1 + 0 − 0.7 = 0.3;              Â_2 = 0.3
    // t=1: δ = 0 + 0.7 − 0.6 = 0.1;            Â_1 = 0.1 + 0.95·0.3 = 0.385
    // t=0: δ = 0 + 0.6 − 0.5 = 0.1;            Â_0 = 0.1 + 0.95·0.385 = 0.46575
    assertThat(e.advantages()[0]).containsExactly(new float[] {0.46575f, 0.385f, 0.3f}, within(1e-6f));
    // R_t = Â_t + V_t = (0.96575, 0.985, 1.0)
    assertThat(e.returns()[0]).containsExactly(new float[] {0.96575f, 0.985f, 1.0f}, within(1e-6f));
  }

  @Test
  void withLambdaOneAndGammaOneTheReturnIsTheSumOfFutureRewards() {
    float[][] rewards = {{0.2f, -0.1f, 0.5f, 1.0f}};
    float[][] values = {{3.0f, -2.0f, 0.25f, 9.0f}};
    Gae.Estimate e = Gae.estimate(rewards, values, 1.0f, 1.0f);
    // Monte-Carlo returns: 1.6, 1.4, 1.5, 1.0 — independent of the values.
    assertThat(e.returns()[0]).containsExactly(new float[] {1.6f, 1.4f, 1.5f, 1.0f}, within(1e-6f));
  }

  @Test
  void sequencesAreIndependentAndTheValueAfterTheEndIsZero() {
    float[][] rewards = {{1.0f}, {0.0f, 0.0f}};
    float[][] values = {{0.25f}, {0.0f, 0.5f}};
    Gae.Estimate e = Gae.estimate(rewards, values, 1.0f, 0.95f);
    // seq 0: δ = 1 − 0.25 = 0.75
    assertThat(e.advantages()[0][0]).isCloseTo(0.75f, within(1e-7f));
    // seq 1, t=1: δ = 0 + 0 − 0.5 = −0.5; t=0: δ = 0 + 0.5 − 0 = 0.5, Â_0 = 0.5 + 0.95·(−0.5) = 0.025
    assertThat(e.advantages()[1]).containsExactly(new float[] {0.025f, -0.5f}, within(1e-6f));
  }

  @Test
  void whiteningUsesTheMeanAndVarianceOfAllTokens() {
    float[][] adv = {{1.0f, 3.0f}, {5.0f}, {}};
    float[][] w = Gae.whiten(adv);
    // mean 3, biased variance (4 + 0 + 4)/3 = 8/3, std 1.63299
    assertThat(w[0]).containsExactly(new float[] {-1.2247449f, 0.0f}, within(1e-5f));
    assertThat(w[1]).containsExactly(new float[] {1.2247449f}, within(1e-5f));
    assertThat(w[2]).isEmpty();
  }

  @Test
  void explainedVarianceIsOneForAPerfectCriticAndZeroForTheMean() {
    float[][] returns = {{1f, 2f, 3f}};
    assertThat(Gae.explainedVariance(new float[][] {{1f, 2f, 3f}}, returns)).isCloseTo(1.0, within(1e-9));
    // V = mean(R) = 2 everywhere: Var(R − V) = Var(R) → 0
    assertThat(Gae.explainedVariance(new float[][] {{2f, 2f, 2f}}, returns)).isCloseTo(0.0, within(1e-9));
  }

  @Test
  void raggedShapesMustAgree() {
    assertThatThrownBy(() -> Gae.estimate(new float[][] {{1f, 2f}}, new float[][] {{1f}}, 1f, 0.95f))
        .hasMessageContaining("values[0] has 1 tokens, expected 2");
  }
}
