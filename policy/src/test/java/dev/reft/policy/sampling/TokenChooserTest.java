package dev.reft.policy.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * The Java-side sampling math: top-k, top-p, inverse CDF, reported log-probabilities; the temperature
 * is applied when the row is prepared, as the sampler does natively.
 */
class TokenChooserTest {

  static final float[] LOGITS = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};

  @Test
  void samplesInProportionToTheSoftmaxAndReportsItsLogProb() {
    double[] freq = frequencies(new SamplingParams(1, 0, 1, 1), 40_000);
    double[] expected = {0.5, 0.3, 0.15, 0.05};
    for (int i = 0; i < 4; i++) {
      assertThat(freq[i]).isCloseTo(expected[i], within(0.01));
    }
    TokenChooser.Choice c = choose(new SamplingParams(1, 0, 1, 1), new Rng(1));
    assertThat((double) c.logProb()).isCloseTo(Math.log(expected[c.token()]), within(1e-6));
  }

  @Test
  void temperatureSharpensTheDistribution() {
    SamplingParams cold = new SamplingParams(0.5, 0, 1, 1);
    double[] freq = frequencies(cold, 40_000);
    double norm = 0.25 + 0.09 + 0.0225 + 0.0025; // p^(1/0.5), renormalised
    assertThat(freq[0]).isCloseTo(0.25 / norm, within(0.01));
    TokenChooser.Choice c = choose(cold, new Rng(3));
    double[] p = {0.25 / norm, 0.09 / norm, 0.0225 / norm, 0.0025 / norm};
    assertThat((double) c.logProb()).isCloseTo(Math.log(p[c.token()]), within(1e-6));
  }

  @Test
  void topKKeepsTheKMostLikelyAndRenormalises() {
    SamplingParams top2 = new SamplingParams(1, 2, 1, 1);
    double[] freq = frequencies(top2, 20_000);
    assertThat(freq[2] + freq[3]).isZero();
    assertThat(freq[0]).isCloseTo(0.5 / 0.8, within(0.01));
    TokenChooser.Choice c = choose(top2, new Rng(5));
    assertThat((double) c.logProb()).isCloseTo(Math.log((c.token() == 0 ? 0.5 : 0.3) / 0.8), within(1e-6));
  }

  @Test
  void topPKeepsTheSmallestNucleusReachingP() {
    SamplingParams nucleus = new SamplingParams(1, 0, 0.7, 1); // 0.5 < 0.7 <= 0.5 + 0.3
    double[] freq = frequencies(nucleus, 20_000);
    assertThat(freq[2] + freq[3]).isZero();
    assertThat(freq[1]).isCloseTo(0.3 / 0.8, within(0.01));
    double[] onlyTop = frequencies(new SamplingParams(1, 0, 0.1, 1), 1_000);
    assertThat(onlyTop[0]).isEqualTo(1.0);
  }

  @Test
  void greedyTakesTheArgmaxWithTheLowestIdOnTies() {
    float[] row = logSoftmax(new float[] {1f, 3f, 3f, -2f}, 1);
    TokenChooser.Choice c = new TokenChooser().greedy(row, 0, 4);
    assertThat(c.token()).isEqualTo(1);
    assertThat(c.logProb()).isEqualTo(row[1]);
  }

  @Test
  void rowsAreReadAtTheirOffset() {
    float[] two = new float[8];
    System.arraycopy(logSoftmax(LOGITS, 1), 0, two, 4, 4);
    assertThat(new TokenChooser().greedy(two, 4, 4).token()).isEqualTo(0);
    two[4 + 3] = 0;
    assertThat(new TokenChooser().greedy(two, 4, 4).token()).isEqualTo(3);
  }

  static TokenChooser.Choice choose(SamplingParams params, Rng rng) {
    float[] logProbs = logSoftmax(LOGITS, params.temperature());
    return new TokenChooser().sample(logProbs, exp(logProbs), 0, 4, params, rng);
  }

  static float[] logSoftmax(float[] logits, double temperature) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l / temperature);
    }
    double sum = 0;
    for (float l : logits) {
      sum += Math.exp(l / temperature - max);
    }
    float[] out = new float[logits.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (logits[i] / temperature - max - Math.log(sum));
    }
    return out;
  }

  static float[] exp(float[] logProbs) {
    float[] out = new float[logProbs.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) Math.exp(logProbs[i]);
    }
    return out;
  }

  static double[] frequencies(SamplingParams params, int n) {
    TokenChooser chooser = new TokenChooser();
    Rng rng = new Rng(11);
    float[] logProbs = logSoftmax(LOGITS, params.temperature());
    float[] probs = exp(logProbs);
    double[] counts = new double[4];
    for (int i = 0; i < n; i++) {
      counts[chooser.sample(logProbs, probs, 0, 4, params, rng).token()]++;
    }
    for (int i = 0; i < 4; i++) {
      counts[i] /= n;
    }
    return counts;
  }
}
