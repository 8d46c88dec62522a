package dev.reft.policy.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import dev.reft.policy.Scalars;

/**
 * Causal multi-head self-attention with rotary position embeddings and optional grouped-query heads, in
 * the Llama layout, with optional projection biases (Qwen2: q, k, v; Llama with {@code attention_bias}: q, k, v
 * and o).
 *
 * <p>Shapes: B batch, T query time, Tk key time (T, or cache length + T when decoding with a {@link
 * KvCache}), C model width, H query heads, Hkv key/value heads, D = C / H head size. Parameters in the
 * Hugging Face (out, in) layout: {@code q_proj} (H·D, C), {@code k_proj} and {@code v_proj} (Hkv·D, C),
 * {@code o_proj} (C, H·D); biases {@code q_proj.bias} (H·D), {@code k_proj.bias} and {@code v_proj.bias}
 * (Hkv·D), {@code o_proj.bias} (C), each starting at 0. With Hkv &lt; H each key/value head serves H / Hkv
 * consecutive query heads (Hugging Face's {@code repeat_kv}: query head h uses key/value head h / (H / Hkv)).
 *
 * <p>Masking is additive: the caller passes (B, 1, T, Tk) holding 0 where a query may attend and -1e9
 * where it may not (future positions, padding). A large finite value instead of -inf keeps rows that
 * see no valid key (left padding) finite; {@code exp(-1e9)} is exactly 0 in float32, so valid rows are
 * unaffected.
 */
public final class CausalSelfAttention extends AbstractBlock {

  private final int dim;
  private final int heads;
  private final int kvHeads;
  private final int headDim;
  private final Parameter qProj;
  private final Parameter kProj;
  private final Parameter vProj;
  private final Parameter oProj;
  private final Parameter qBias;
  private final Parameter kBias;
  private final Parameter vBias;
  private final Parameter oBias;
  private NDArray scale;

  private CausalSelfAttention(Builder b) {
    dim = b.dim;
    heads = b.heads;
    kvHeads = b.kvHeads;
    headDim = b.dim / b.heads;
    qProj = addParameter(SwiGluMlp.weight("q_proj", heads * headDim, dim, b.initStd));
    kProj = addParameter(SwiGluMlp.weight("k_proj", kvHeads * headDim, dim, b.initStd));
    vProj = addParameter(SwiGluMlp.weight("v_proj", kvHeads * headDim, dim, b.initStd));
    oProj = addParameter(SwiGluMlp.weight("o_proj", dim, heads * headDim, b.initStd));
    qBias = b.qkvBias ? addParameter(bias("q_proj_bias", heads * headDim)) : null;
    kBias = b.qkvBias ? addParameter(bias("k_proj_bias", kvHeads * headDim)) : null;
    vBias = b.qkvBias ? addParameter(bias("v_proj_bias", kvHeads * headDim)) : null;
    oBias = b.outputBias ? addParameter(bias("o_proj_bias", dim)) : null;
  }

  private static Parameter bias(String name, int size) {
    return Parameter.builder().setName(name).setType(Parameter.Type.BIAS).optShape(new Shape(size))
        .optInitializer(new ConstantInitializer(0f)).build();
  }

  /** @return a builder; {@code setDim} and {@code setHeads} are required */
  public static Builder builder() {
    return new Builder();
  }

  /** @return {@code q_proj} (H·D, C) */
  public Parameter qProj() {
    return qProj;
  }

  /** @return {@code k_proj} (Hkv·D, C) */
  public Parameter kProj() {
    return kProj;
  }

  /** @return {@code v_proj} (Hkv·D, C) */
  public Parameter vProj() {
    return vProj;
  }

  /** @return {@code o_proj} (C, H·D) */
  public Parameter oProj() {
    return oProj;
  }

  /** @return {@code q_proj.bias} (H·D), or null without q/k/v biases */
  public Parameter qBias() {
    return qBias;
  }

  /** @return {@code k_proj.bias} (Hkv·D), or null without q/k/v biases */
  public Parameter kBias() {
    return kBias;
  }

  /** @return {@code v_proj.bias} (Hkv·D), or null without q/k/v biases */
  public Parameter vBias() {
    return vBias;
  }

  /** @return {@code o_proj.bias} (C), or null without an output bias */
  public Parameter oBias() {
    return oBias;
  }

  /**
   * Attends each position to the allowed positions.
   *
   * @param x normalised activations (B, T, C)
   * @param cos (B, 1, T, D) rotation for the T positions of {@code x}
   * @param sin (B, 1, T, D)
   * @param mask additive mask (B, 1, T, Tk)
   * @param cache the generation's cache, or null for a plain full-sequence pass
   * @param layer this layer's index in the cache
   * @return (B, T, C), attached to {@code x}'s manager
   */
  public NDArray forward(NDArray x, NDArray cos, NDArray sin, NDArray mask, KvCache cache, int layer) {
    Shape s = x.getShape();
    long b = s.get(0);
    long t = s.get(1);
    NDArray q = splitHeads(project(x, qProj, qBias), b, t, heads); // (B, H, T, D)
    NDArray k = splitHeads(project(x, kProj, kBias), b, t, kvHeads); // (B, Hkv, T, D)
    NDArray v = splitHeads(project(x, vProj, vBias), b, t, kvHeads); // (B, Hkv, T, D)
    q = RotaryEmbedding.apply(q, cos, sin).mul(scale); // 1/sqrt(D) folded into the queries
    k = RotaryEmbedding.apply(k, cos, sin);
    if (cache != null) {
      NDArray[] kv = cache.append(layer, k, v); // (B, Hkv, Tk, D)
      k = kv[0];
      v = kv[1];
    }
    k = repeatKv(k); // (B, H, Tk, D)
    v = repeatKv(v);
    NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).add(mask); // (B, H, T, Tk)
    NDArray context = scores.softmax(3).matMul(v); // (B, H, T, D)
    NDArray merged = context.transpose(0, 2, 1, 3).reshape(b, t, (long) heads * headDim); // (B, T, C)
    return project(merged, oProj, oBias);
  }

  /** x·Wᵀ (+ bias). */
  private static NDArray project(NDArray x, Parameter weight, Parameter bias) {
    return (bias == null ? Linear.linear(x, weight.getArray()) : Linear.linear(x, weight.getArray(), bias.getArray())).singletonOrThrow();
  }

  /** (B, T, n·D) → (B, n, T, D). */
  private NDArray splitHeads(NDArray y, long b, long t, int n) {
    return y.reshape(b, t, n, headDim).transpose(0, 2, 1, 3);
  }

  /** (B, Hkv, Tk, D) → (B, H, Tk, D): each key/value head repeated for its group of query heads. */
  private NDArray repeatKv(NDArray kv) {
    if (kvHeads == heads) {
      return kv;
    }
    Shape s = kv.getShape();
    int group = heads / kvHeads;
    return kv.expandDims(2)
        .broadcast(new Shape(s.get(0), kvHeads, group, s.get(2), headDim)) // (B, Hkv, G, Tk, D)
        .reshape(s.get(0), heads, s.get(2), headDim);
  }

  @Override
  public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
    super.initialize(manager, dataType, inputShapes);
    if (scale == null) {
      scale = Scalars.of(manager, 1.0 / Math.sqrt(headDim), dataType);
    }
  }

  /**
   * DJL entry point for a pass without cache.
   *
   * @param inputs x (B, T, C), cos (B, 1, T, D), sin (B, 1, T, D), additive mask (B, 1, T, T)
   * @return (B, T, C)
   */
  @Override
  protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(forward(inputs.get(0), inputs.get(1), inputs.get(2), inputs.get(3), null, 0));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  /**
   * Builder: {@code setDim}, {@code setHeads} required; {@code optKvHeads} (default H), {@code optInitStd}
   * (0.02), {@code optBias} (none).
   */
  public static final class Builder {
    private int dim;
    private int heads;
    private int kvHeads;
    private float initStd = 0.02f;
    private boolean qkvBias;
    private boolean outputBias;

    private Builder() {}

    /** @param dim C */
    public Builder setDim(int dim) {
      this.dim = dim;
      return this;
    }

    /** @param heads H, must divide C */
    public Builder setHeads(int heads) {
      this.heads = heads;
      return this;
    }

    /** @param kvHeads Hkv, must divide H (default H: no grouping) */
    public Builder optKvHeads(int kvHeads) {
      this.kvHeads = kvHeads;
      return this;
    }

    /** @param initStd standard deviation of the normal initialisation */
    public Builder optInitStd(float initStd) {
      this.initStd = initStd;
      return this;
    }

    /**
     * @param qkv whether q_proj, k_proj and v_proj have biases
     * @param output whether o_proj has a bias
     */
    public Builder optBias(boolean qkv, boolean output) {
      this.qkvBias = qkv;
      this.outputBias = output;
      return this;
    }

    /** @return the block */
    public CausalSelfAttention build() {
      if (kvHeads == 0) {
        kvHeads = heads;
      }
      if (dim <= 0 || heads <= 0 || dim % heads != 0) {
        throw new IllegalArgumentException("CausalSelfAttention: setDim and setHeads are required and heads must divide dim, got dim=" + dim + ", heads=" + heads);
      }
      if (kvHeads < 0 || heads % kvHeads != 0) {
        throw new IllegalArgumentException("CausalSelfAttention: kvHeads must divide heads, got kvHeads=" + kvHeads + ", heads=" + heads);
      }
      if ((dim / heads) % 2 != 0) {
        throw new IllegalArgumentException("CausalSelfAttention: the head size must be even for rotary embeddings, got " + dim / heads);
      }
      if (!(initStd > 0)) {
        throw new IllegalArgumentException("CausalSelfAttention: initStd must be positive, got " + initStd);
      }
      return new CausalSelfAttention(this);
    }
  }
}
