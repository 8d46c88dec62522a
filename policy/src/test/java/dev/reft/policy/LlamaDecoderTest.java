package dev.reft.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The training forward: shapes, padding, causality, parameter layout. */
class LlamaDecoderTest {

  static final int VOCAB = 40;
  static PolicyModel model;

  @BeforeAll
  static void createModel() {
    model = PolicyModel.create(TestModels.small(VOCAB), 7);
  }

  @AfterAll
  static void closeModel() {
    model.close();
  }

  @Test
  void forwardReturnsLogitsAndValuesPerPosition() {
    try (NDManager batch = model.newBatchManager()) {
      TokenBatch b = TokenBatch.rightPadded(batch, TestModels.randomSequences(1, 3, 5, 9, 0, VOCAB), 0);
      ForwardOutput out = model.forward(b.tokens(), b.attentionMask());
      long t = b.tokens().getShape().get(1);
      assertThat(out.logits().getShape()).isEqualTo(new Shape(3, t, VOCAB));
      assertThat(out.values().getShape()).isEqualTo(new Shape(3, t));
      assertThat(out.logits().isNaN().any().getBoolean()).isFalse();
    }
  }

  @Test
  void paddingDoesNotChangeTheRealPositions() {
    int[] seq = TestModels.randomSequences(2, 1, 7, 7, 0, VOCAB).get(0);
    try (NDManager batch = model.newBatchManager()) {
      float[] alone = forwardAlone(batch, seq);
      int t = seq.length + 4;
      // Right padding: the sequence followed by 4 pads.
      long[] right = new long[t];
      float[] rightMask = new float[t];
      // Left padding: 4 pads, then the sequence.
      long[] left = new long[t];
      float[] leftMask = new float[t];
      for (int i = 0; i < seq.length; i++) {
        right[i] = seq[i];
        rightMask[i] = 1;
        left[i + 4] = seq[i];
        leftMask[i + 4] = 1;
      }
      NDArray tokens = batch.create(concat(right, left), new Shape(2, t));
      NDArray mask = batch.create(concat(rightMask, leftMask), new Shape(2, t));
      ForwardOutput out = model.forward(tokens, mask);
      float[] rightLogits = out.logits().get(new NDIndex("0, :{}, :", seq.length)).toFloatArray();
      float[] leftLogits = out.logits().get(new NDIndex("1, 4:, :")).toFloatArray();
      assertClose(rightLogits, alone, 1e-5);
      assertClose(leftLogits, alone, 1e-5);
    }
  }

  @Test
  void aTokenDoesNotSeeLaterTokens() {
    int[] seq = TestModels.randomSequences(3, 1, 10, 10, 0, VOCAB).get(0);
    int[] changed = seq.clone();
    changed[7] = (changed[7] + 1) % VOCAB;
    try (NDManager batch = model.newBatchManager()) {
      float[] a = forwardAlone(batch, seq);
      float[] b = forwardAlone(batch, changed);
      int upTo = 7 * VOCAB; // positions 0..6 are unaffected
      assertClose(java.util.Arrays.copyOf(b, upTo), java.util.Arrays.copyOf(a, upTo), 1e-6);
      assertThat(maxDiff(java.util.Arrays.copyOfRange(b, upTo, b.length), java.util.Arrays.copyOfRange(a, upTo, a.length))).isGreaterThan(1e-4);
    }
  }

  @Test
  void theDjlBlockEntryPointComputesTheSameForward() {
    int[] seq = TestModels.randomSequences(4, 1, 6, 6, 0, VOCAB).get(0);
    try (NDManager batch = model.newBatchManager()) {
      TokenBatch b = TokenBatch.rightPadded(batch, List.of(seq), 0);
      NDList out = model.decoder().forward(new ParameterStore(batch, false), new NDList(b.tokens(), b.attentionMask()), false);
      ForwardOutput typed = model.forward(b.tokens(), b.attentionMask());
      assertThat(out.get(0).toFloatArray()).containsExactly(typed.logits().toFloatArray());
      assertThat(out.get(1).toFloatArray()).containsExactly(typed.values().toFloatArray());
      assertThat(model.decoder().getOutputShapes(new Shape[] {new Shape(2, 5), new Shape(2, 5)}))
          .containsExactly(new Shape(2, 5, VOCAB), new Shape(2, 5));
    }
  }

  @Test
  void parametersUseLlamaNamesAndTheConfiguredCount() {
    assertThat(model.namedParameters().keySet())
        .startsWith("model.embed_tokens.weight", "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight")
        .contains("model.layers.1.mlp.down_proj.weight", "model.norm.weight", "lm_head.weight")
        .endsWith("v_head.weight", "v_head.bias");
    assertThat(model.namedParameters().get("model.layers.0.self_attn.k_proj.weight").getShape()).isEqualTo(new Shape(16, 32)); // 2 kv heads × 8
    assertThat(model.parameterCount()).isEqualTo(model.config().parameterCount());
  }

  @Test
  void presetsHaveTheDocumentedShapes() {
    ModelConfig tiny = ModelConfig.tiny(100);
    ModelConfig small = ModelConfig.preset("small", 100);
    assertThat(List.of(tiny.layers(), tiny.dim(), tiny.heads(), tiny.hiddenDim())).containsExactly(2, 128, 4, 341);
    assertThat(List.of(small.layers(), small.dim(), small.heads(), small.hiddenDim())).containsExactly(4, 256, 4, 682);
    try (PolicyModel tied = PolicyModel.create(tiny, 1)) {
      assertThat(tied.namedParameters()).doesNotContainKey("lm_head.weight");
      assertThat(tied.parameterCount()).isEqualTo(tiny.parameterCount());
    }
    assertThat(ModelConfig.fromJson(small.toJson(1, 2, 0))).isEqualTo(small);
    assertThatThrownBy(() -> new ModelConfig(10, 30, 1, 4, 4, 8, 16, true, 0.02f, 1e4f, 1e-5f)).hasMessageContaining("heads must divide dim");
    assertThatThrownBy(() -> ModelConfig.tiny(10).withKvHeads(3)).hasMessageContaining("kvHeads must divide heads");
  }

  @Test
  void sameSeedSameWeightsDifferentSeedDifferentWeights() {
    try (PolicyModel a = PolicyModel.create(TestModels.small(VOCAB), 7);
        PolicyModel c = PolicyModel.create(TestModels.small(VOCAB), 8)) {
      String name = "model.layers.1.mlp.up_proj.weight";
      assertThat(a.namedParameters().get(name).getArray().toFloatArray())
          .containsExactly(model.namedParameters().get(name).getArray().toFloatArray());
      assertThat(c.namedParameters().get(name).getArray().toFloatArray())
          .isNotEqualTo(model.namedParameters().get(name).getArray().toFloatArray());
    }
  }

  @Test
  void rejectsSequencesLongerThanMaxSeqLen() {
    try (NDManager batch = model.newBatchManager()) {
      NDArray tokens = batch.zeros(new Shape(1, 65), ai.djl.ndarray.types.DataType.INT64);
      assertThatThrownBy(() -> model.forward(tokens, batch.ones(new Shape(1, 65)))).hasMessageContaining("exceeds maxSeqLen 64");
    }
  }

  static float[] forwardAlone(NDManager batch, int[] seq) {
    TokenBatch b = TokenBatch.rightPadded(batch, List.of(seq), 0);
    return model.forward(b.tokens(), b.attentionMask()).logits().toFloatArray();
  }

  static long[] concat(long[] a, long[] b) {
    long[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static float[] concat(float[] a, float[] b) {
    float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static double maxDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  static void assertClose(float[] actual, float[] expected, double tolerance) {
    assertThat(actual).hasSameSizeAs(expected);
    assertThat(maxDiff(actual, expected)).isLessThanOrEqualTo(tolerance);
  }
}
