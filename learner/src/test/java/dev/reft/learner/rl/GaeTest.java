package dev.reft.learner.rl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Each expected number is worked out by hand in the comments. */
class GaeTest {

  @Test
  void klShapedRewardsPenaliseEveryTokenAndPayTheScoreOnTheLast() {
    float[][] behaviour = {{-1.0f, -2.0f, -0.5f}, {-0.1f}};
    float[][] ref = {{-1.5f, -1.0f, -0.5f}, {-0.3f}};
    float[] scores = {1.0f, 0.1f};
    float beta = 0.05f;
    float[][] r = Gae.klShapedRewards(behaviour, ref, scores, beta);
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
  void theMonitoredKlIsZeroForTheReferenceItselfAndWorkedByHandOtherwise() {
    float[][] same = {{-1.2f, -0.3f}, {-2.0f}};
    assertThat(Gae.klToReference(same, same)).isZero();
    // ρ = e^(−0.5 − (−1)) = e^0.5: (e^0.5 − 1) − 0.5 = 0.148721; ρ = e^(−1): (e^−1 − 1) + 1 = 0.367879
    float[][] mu = {{-1.0f}, {-1.0f}};
    float[][] ref = {{-0.5f}, {-2.0f}};
    assertThat(Gae.klToReference(mu, ref)).isCloseTo((0.148721 + 0.367879) / 2, within(1e-6));
  }

  @Test
  void leaveOneOutComparesEachSampleWithTheOthersOfItsQuestion() {
    float[][] rewards = {{0f, 1.0f}, {0.1f}, {-0.05f, 0f}, {0.5f}, {0.2f, 0.3f}};
    int[] groups = {0, 0, 0, 1, 1};
    float[][] a = Gae.leaveOneOut(rewards, groups, 1.0f);
    // Question 0: G_0 = 1.0, 0.1, −0.05. Baselines: (0.1 − 0.05)/2 = 0.025, (1.0 − 0.05)/2 = 0.475,
    // (1.0 + 0.1)/2 = 0.55. Returns-to-go: (1.0, 1.0), (0.1), (−0.05, 0).
    assertThat(a[0]).containsExactly(new float[] {0.975f, 0.975f}, within(1e-6f));
    assertThat(a[1]).containsExactly(new float[] {-0.375f}, within(1e-6f));
    assertThat(a[2]).containsExactly(new float[] {-0.6f, -0.55f}, within(1e-6f));
    // Question 1: G_0 = 0.5 and 0.5, so each baseline is 0.5; returns-to-go (0.5) and (0.5, 0.3).
    assertThat(a[3]).containsExactly(new float[] {0f}, within(1e-6f));
    assertThat(a[4]).containsExactly(new float[] {0f, -0.2f}, within(1e-6f));
    assertThatThrownBy(() -> Gae.leaveOneOut(new float[][] {{1f}, {1f}}, new int[] {0, 1}, 1f))
        .hasMessageContaining("at least 2 samples per question");
  }

  /**
   * The KL term under policy lag. Tokens are drawn from a behaviour policy μ that lags the learner; the learner's
   * proximal policy π_prox has moved further from the reference than μ. Over many sampled sequences, the penalty's
   * estimate — from the behaviour log-probs — approaches KL(μ‖π_ref) per token, which is never negative; the
   * estimate from the proximal log-probs that the learner used to feed it approaches KL(μ‖π_ref) − KL(μ‖π_prox),
   * negative here.
   */
  @Test
  void underLagTheKlEstimateComesFromTheBehaviourPolicyAndIsNeverNegative() {
    java.util.Random random = new java.util.Random(11);
    for (int trial = 0; trial < 20; trial++) {
      int vocab = 4 + random.nextInt(4);
      double[] ref = softmax(randomLogits(random, vocab, 1.0));
      double[] drift = randomLogits(random, vocab, 1.5);
      double[] behaviour = softmax(add(log(ref), drift, 0.5)); //   μ: half-way along the drift
      double[] prox = softmax(add(log(ref), drift, 1.0)); //        π_prox: all the way
      int sequences = 4_000;
      int length = 5;
      float[][] mu = new float[sequences][length];
      float[][] refLp = new float[sequences][length];
      float[][] proxLp = new float[sequences][length];
      for (int i = 0; i < sequences; i++) {
        for (int t = 0; t < length; t++) {
          int token = draw(random, behaviour);
          mu[i][t] = (float) Math.log(behaviour[token]);
          refLp[i][t] = (float) Math.log(ref[token]);
          proxLp[i][t] = (float) Math.log(prox[token]);
        }
      }
      double exact = length * kl(behaviour, ref);
      // The penalty's own estimate, Σ_t log μ − log π_ref, carried by the rewards (−β times it):
      float[][] rewards = Gae.klShapedRewards(mu, refLp, new float[sequences], 0.05f);
      double penalty = 0;
      for (float[] row : rewards) {
        for (float r : row) {
          penalty += r;
        }
      }
      assertThat(-penalty / 0.05 / sequences).as("trial %d", trial).isCloseTo(exact, within(0.05 + 0.1 * exact));
      // What the learner used to feed it, Σ_t log π_prox − log π_ref on μ's samples, estimates a difference of KLs:
      double proximal = meanSequenceSum(proxLp, refLp);
      assertThat(proximal).as("the proximal estimate, trial %d", trial)
          .isCloseTo(length * (kl(behaviour, ref) - kl(behaviour, prox)), within(0.05 + 0.1 * exact));
      // The monitored KL estimates the same KL(μ‖π_ref), and no batch of it is ever negative.
      assertThat(Gae.klToReference(mu, refLp)).isCloseTo(exact, within(0.05 + 0.1 * exact));
      for (int from = 0; from < sequences; from += 100) {
        float[][] few = java.util.Arrays.copyOfRange(mu, from, from + 100);
        float[][] fewRef = java.util.Arrays.copyOfRange(refLp, from, from + 100);
        assertThat(Gae.klToReference(few, fewRef)).isGreaterThanOrEqualTo(0.0);
      }
    }
  }

  private static double[] randomLogits(java.util.Random random, int n, double scale) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = scale * random.nextGaussian();
    }
    return x;
  }

  private static double[] add(double[] a, double[] b, double weight) {
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] + weight * b[i];
    }
    return out;
  }

  private static double[] log(double[] p) {
    double[] out = new double[p.length];
    for (int i = 0; i < p.length; i++) {
      out[i] = Math.log(p[i]);
    }
    return out;
  }

  private static double[] softmax(double[] logits) {
    double max = java.util.Arrays.stream(logits).max().orElseThrow();
    double[] out = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      out[i] = Math.exp(logits[i] - max);
      sum += out[i];
    }
    for (int i = 0; i < out.length; i++) {
      out[i] /= sum;
    }
    return out;
  }

  private static double kl(double[] p, double[] q) {
    double kl = 0;
    for (int i = 0; i < p.length; i++) {
      kl += p[i] * Math.log(p[i] / q[i]);
    }
    return kl;
  }

  private static int draw(java.util.Random random, double[] p) {
    double u = random.nextDouble();
    for (int i = 0; i < p.length; i++) {
      u -= p[i];
      if (u <= 0) {
        return i;
      }
    }
    return p.length - 1;
  }

  private static double meanSequenceSum(float[][] a, float[][] b) {
    double total = 0;
    for (int i = 0; i < a.length; i++) {
      for (int t = 0; t < a[i].length; t++) {
        total += a[i][t] - b[i][t];
      }
    }
    return total / a.length;
  }

  @Test
  void raggedShapesMustAgree() {
    assertThatThrownBy(() -> Gae.estimate(new float[][] {{1f, 2f}}, new float[][] {{1f}}, 1f, 0.95f))
        .hasMessageContaining("values[0] has 1 tokens, expected 2");
  }
}
