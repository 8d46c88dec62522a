package dev.reft.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Log-probabilities and entropies against a plain-Java computation. */
class TokenLogProbsTest {

  static final int B = 2;
  static final int T = 3;
  static final int V = 5;
  static NDManager manager;
  static float[] logits;
  static long[] tokens;

  @BeforeAll
  static void setUp() {
    manager = PolicyRuntime.engine().newBaseManager();
    Random random = new Random(1);
    logits = new float[B * T * V];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) (3 * random.nextGaussian());
    }
    tokens = new long[B * T];
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = random.nextInt(V);
    }
  }

  @AfterAll
  static void tearDown() {
    manager.close();
  }

  @Test
  void gathersTheLogSoftmaxOfEachToken() {
    float[] actual = TokenLogProbs.ofTokens(logitsArray(), tokensArray()).toFloatArray();
    for (int row = 0; row < B * T; row++) {
      assertThat((double) actual[row]).isCloseTo(logSoftmax(row, (int) tokens[row], 1.0), within(1e-5));
    }
  }

  @Test
  void nextTokenLogProbsScoreTokenTPlusOneWithPositionT() {
    NDArray next = TokenLogProbs.nextTokenLogProbs(logitsArray(), tokensArray());
    assertThat(next.getShape()).isEqualTo(new Shape(B, T - 1));
    float[] actual = next.toFloatArray();
    for (int b = 0; b < B; b++) {
      for (int t = 0; t < T - 1; t++) {
        assertThat((double) actual[b * (T - 1) + t]).isCloseTo(logSoftmax(b * T + t, (int) tokens[b * T + t + 1], 1.0), within(1e-5));
      }
    }
  }

  @Test
  void entropyIsMinusSumPLogPAndTemperatureDividesTheLogits() {
    float[] entropy = TokenLogProbs.entropy(logitsArray()).toFloatArray();
    for (int row = 0; row < B * T; row++) {
      double h = 0;
      for (int v = 0; v < V; v++) {
        double lp = logSoftmax(row, v, 1.0);
        h -= Math.exp(lp) * lp;
      }
      assertThat((double) entropy[row]).isCloseTo(h, within(1e-5));
    }
    NDArray uniform = manager.zeros(new Shape(1, 1, V));
    assertThat((double) TokenLogProbs.entropy(uniform).getFloat()).isCloseTo(Math.log(V), within(1e-6));
    float[] tempered = TokenLogProbs.ofTokens(TokenLogProbs.withTemperature(logitsArray(), 0.5), tokensArray()).toFloatArray();
    assertThat((double) tempered[0]).isCloseTo(logSoftmax(0, (int) tokens[0], 0.5), within(1e-5));
  }

  NDArray logitsArray() {
    return manager.create(logits, new Shape(B, T, V));
  }

  NDArray tokensArray() {
    return manager.create(tokens, new Shape(B, T));
  }

  static double logSoftmax(int row, int token, double temperature) {
    double max = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < V; v++) {
      max = Math.max(max, logits[row * V + v] / temperature);
    }
    double sum = 0;
    for (int v = 0; v < V; v++) {
      sum += Math.exp(logits[row * V + v] / temperature - max);
    }
    return logits[row * V + token] / temperature - max - Math.log(sum);
  }
}
