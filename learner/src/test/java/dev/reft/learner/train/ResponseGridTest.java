package dev.reft.learner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.reft.policy.ForwardOutput;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.NoGrad;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.TokenLogProbs;
import dev.reft.schemas.Outcome;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Where response tokens sit in the (B, T − 1) next-token grid of a right-padded batch: entry [i][p] predicts
 * token p + 1, so response token j of a sequence with a prompt of length s sits at p = s − 1 + j. The expected
 * grids below are written out by hand; the last test checks the grid against the model run on each sequence
 * alone.
 */
class ResponseGridTest {

  private static final int VOCAB = 23;
  private static final int PAD = 0;

  @Test
  void maskHasOnesExactlyAtTheResponsePositions() {
    // seq 0: prompt 2, response 3 → length 5, positions 1, 2, 3
    // seq 1: prompt 4, response 1 → length 5, position 3
    // seq 2: prompt 1, response 2 → length 3, positions 0, 1
    // T = 5 → width 4
    ResponseGrid grid = new ResponseGrid(new int[] {2, 4, 1}, new int[] {3, 1, 2}, 4);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray mask = grid.mask(m);
      assertThat(mask.getShape()).isEqualTo(new Shape(3, 4));
      assertThat(mask.toFloatArray()).containsExactly(
          0, 1, 1, 1,
          0, 0, 0, 1,
          1, 1, 0, 0);
    }
  }

  @Test
  void ofRolloutsUsesTheLongestSequenceForTheWidth() {
    // lengths 3 + 2 = 5 and 2 + 5 = 7 → T = 7, width 6
    ResponseGrid grid = ResponseGrid.of(List.of(rollout(new int[] {1, 5, 6}, new int[] {7, 8}),
        rollout(new int[] {1, 5}, new int[] {9, 10, 11, 12, 13})));
    assertThat(grid.rows()).isEqualTo(2);
    assertThat(grid.width()).isEqualTo(6);
    try (NDManager m = NDManager.newBaseManager()) {
      assertThat(grid.mask(m).toFloatArray()).containsExactly(
          0, 0, 1, 1, 0, 0,
          0, 1, 1, 1, 1, 1);
    }
  }

  @Test
  void placePutsRaggedValuesAtTheResponsePositionsAndZerosElsewhere() {
    ResponseGrid grid = new ResponseGrid(new int[] {2, 4, 1}, new int[] {3, 1, 2}, 4);
    float[][] ragged = {{11f, 12f, 13f}, {21f}, {31f, 32f}};
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray placed = grid.place(m, ragged);
      assertThat(placed.getShape()).isEqualTo(new Shape(3, 4));
      assertThat(placed.toFloatArray()).containsExactly(
          0f, 11f, 12f, 13f,
          0f, 0f, 0f, 21f,
          31f, 32f, 0f, 0f);
    }
  }

  @Test
  void extractReadsTheResponsePositionsBackAndRoundTripsPlace() {
    ResponseGrid grid = new ResponseGrid(new int[] {3, 1}, new int[] {2, 4}, 5);
    try (NDManager m = NDManager.newBaseManager()) {
      // A grid whose entry [i][p] is 10·i + p: extract must read p = 2, 3 for row 0 and p = 0..3 for row 1.
      NDArray numbered = m.create(new float[] {0, 1, 2, 3, 4, 10, 11, 12, 13, 14}, new Shape(2, 5));
      float[][] read = grid.extract(numbered);
      assertThat(read[0]).containsExactly(2f, 3f);
      assertThat(read[1]).containsExactly(10f, 11f, 12f, 13f);

      float[][] ragged = {{-0.5f, 7.25f}, {1f, -2f, 3f, -4f}};
      float[][] back = grid.extract(grid.place(m, ragged));
      assertThat(back[0]).containsExactly(ragged[0]);
      assertThat(back[1]).containsExactly(ragged[1]);
    }
  }

  @Test
  void aSequenceThatDoesNotFitTheWidthIsRefused() {
    // prompt 3 + response 3 = 6 tokens need width 5; 4 is too narrow
    assertThatThrownBy(() -> new ResponseGrid(new int[] {3}, new int[] {3}, 4))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sequence 0");
    assertThatThrownBy(() -> new ResponseGrid(new int[] {1, 3}, new int[] {1, 3}, 4))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sequence 1");
    // an empty prompt would put the first response token at p = −1
    assertThatThrownBy(() -> new ResponseGrid(new int[] {0}, new int[] {2}, 4))
        .isInstanceOf(IllegalArgumentException.class);
    // exactly fitting is fine
    assertThat(new ResponseGrid(new int[] {3}, new int[] {3}, 5).width()).isEqualTo(5);
  }

  /**
   * The real use: log-probs and values of a padded batch read through the grid equal those of the model run on
   * each sequence alone (no padding), with log_softmax(logits[t])[token[t + 1]] computed here by hand.
   */
  @Test
  @SuppressWarnings("try")
  void gridOfAPaddedBatchMatchesTheModelRunOnEachSequenceAlone() {
    // Different prompt and response lengths; the two shorter sequences are padded to T = 8.
    List<Rollout> batch = List.of(
        rollout(new int[] {1, 5, 9, 4}, new int[] {7, 3, 12, 6}), //   s = 4, L = 4, length 8
        rollout(new int[] {1, 17}, new int[] {8, 8, 20}), //            s = 2, L = 3, length 5
        rollout(new int[] {1, 11, 14, 6, 19}, new int[] {22})); //      s = 5, L = 1, length 6
    try (PolicyModel policy = PolicyModel.create(ModelConfig.tiny(VOCAB), 7);
        NoGrad ignored = NoGrad.enter()) {
      float[][] batchLogProbs;
      float[][] batchValues;
      ResponseGrid grid = ResponseGrid.of(batch);
      try (NDManager m = policy.newBatchManager()) {
        TokenBatch tokens = TokenBatch.rightPadded(m, batch.stream().map(Rollout::sequence).toList(), PAD);
        assertThat(tokens.tokens().getShape()).isEqualTo(new Shape(3, 8));
        ForwardOutput out = policy.forward(tokens.tokens(), tokens.attentionMask());
        batchLogProbs = grid.extract(TokenLogProbs.nextTokenLogProbs(out.logits(), tokens.tokens()));
        batchValues = grid.extract(out.values().get(new NDIndex(":, :-1")));
      }
      for (int i = 0; i < batch.size(); i++) {
        Rollout r = batch.get(i);
        int[] seq = r.sequence();
        float[] alone;
        float[] aloneValues;
        try (NDManager m = policy.newBatchManager()) {
          TokenBatch one = TokenBatch.rightPadded(m, List.of(seq), PAD); // a batch of one: no padding
          ForwardOutput out = policy.forward(one.tokens(), one.attentionMask());
          alone = out.logits().toFloatArray(); //       (1, T_i, V) flattened
          aloneValues = out.values().toFloatArray(); // (1, T_i)
        }
        int s = r.prompt().length;
        assertThat(batchLogProbs[i]).hasSize(r.response().length);
        for (int j = 0; j < r.response().length; j++) {
          int t = s - 1 + j; // the position whose logits predict response token j
          double expected = logSoftmaxAt(alone, t, seq[t + 1]);
          assertThat((double) batchLogProbs[i][j]).as("log-prob of response token %d of sequence %d", j, i)
              .isCloseTo(expected, within(1e-5));
          assertThat(batchValues[i][j]).as("value before response token %d of sequence %d", j, i)
              .isCloseTo(aloneValues[t], within(1e-5f));
        }
      }
    }
  }

  private static double logSoftmaxAt(float[] logits, int t, int token) {
    return logSoftmaxAt(logits, VOCAB, t, token);
  }

  /** log softmax(logits[t])[token], in double, from the flattened (1, T, V) logits: computed by hand. */
  static double logSoftmaxAt(float[] logits, int vocab, int t, int token) {
    double max = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < vocab; v++) {
      max = Math.max(max, logits[t * vocab + v]);
    }
    double sum = 0;
    for (int v = 0; v < vocab; v++) {
      sum += Math.exp(logits[t * vocab + v] - max);
    }
    return logits[t * vocab + token] - max - Math.log(sum);
  }

  private static Rollout rollout(int[] prompt, int[] response) {
    return new Rollout(prompt, response, new float[response.length], 0f, Outcome.WRONG, 0, "g");
  }
}
