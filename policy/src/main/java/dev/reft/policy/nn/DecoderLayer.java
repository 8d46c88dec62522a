package dev.reft.policy.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * One pre-norm Llama decoder layer: {@code h = x + attn(norm1(x)); y = h + mlp(norm2(h))}.
 *
 * <p>Shapes: B batch, T time, Tk key time, C width, D head size. Children, named as in Hugging Face:
 * {@code input_layernorm}, {@code self_attn}, {@code post_attention_layernorm}, {@code mlp}.
 */
public final class DecoderLayer extends AbstractBlock {

  private final RmsNorm inputLayernorm;
  private final CausalSelfAttention selfAttn;
  private final RmsNorm postAttentionLayernorm;
  private final SwiGluMlp mlp;

  private DecoderLayer(Builder b) {
    inputLayernorm = addChildBlock("input_layernorm", RmsNorm.builder().setDim(b.dim).optEps(b.normEps).build());
    selfAttn =
        addChildBlock(
            "self_attn",
            CausalSelfAttention.builder().setDim(b.dim).setHeads(b.heads).optKvHeads(b.kvHeads).optInitStd(b.initStd)
                .optBias(b.qkvBias, b.outputBias).build());
    postAttentionLayernorm = addChildBlock("post_attention_layernorm", RmsNorm.builder().setDim(b.dim).optEps(b.normEps).build());
    mlp = addChildBlock("mlp", SwiGluMlp.builder().setDim(b.dim).setHiddenDim(b.hiddenDim).optInitStd(b.initStd).build());
  }

  /** @return a builder; {@code setDim}, {@code setHeads}, {@code setHiddenDim} are required */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the norm before attention */
  public RmsNorm inputLayernorm() {
    return inputLayernorm;
  }

  /** @return the attention block */
  public CausalSelfAttention selfAttn() {
    return selfAttn;
  }

  /** @return the norm before the MLP */
  public RmsNorm postAttentionLayernorm() {
    return postAttentionLayernorm;
  }

  /** @return the MLP */
  public SwiGluMlp mlp() {
    return mlp;
  }

  /**
   * @param x residual stream (B, T, C)
   * @param cos (B, 1, T, D)
   * @param sin (B, 1, T, D)
   * @param mask additive attention mask (B, 1, T, Tk)
   * @param cache the generation's cache, or null
   * @param layer this layer's index in the cache
   * @return the residual stream (B, T, C), attached to {@code x}'s manager
   */
  public NDArray forward(NDArray x, NDArray cos, NDArray sin, NDArray mask, KvCache cache, int layer) {
    NDArray h = x.add(selfAttn.forward(inputLayernorm.forward(x), cos, sin, mask, cache, layer));
    return h.add(mlp.forward(postAttentionLayernorm.forward(h)));
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
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = inputShapes[0];
    inputLayernorm.initialize(manager, dataType, x);
    selfAttn.initialize(manager, dataType, inputShapes);
    postAttentionLayernorm.initialize(manager, dataType, x);
    mlp.initialize(manager, dataType, x);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  /** Builder: {@code setDim}, {@code setHeads}, {@code setHiddenDim} required; the rest optional. */
  public static final class Builder {
    private int dim;
    private int heads;
    private int kvHeads;
    private int hiddenDim;
    private float initStd = 0.02f;
    private float normEps = 1e-5f;
    private boolean qkvBias;
    private boolean outputBias;

    private Builder() {}

    /** @param dim C */
    public Builder setDim(int dim) {
      this.dim = dim;
      return this;
    }

    /** @param heads H */
    public Builder setHeads(int heads) {
      this.heads = heads;
      return this;
    }

    /** @param hiddenDim the SwiGLU width F */
    public Builder setHiddenDim(int hiddenDim) {
      this.hiddenDim = hiddenDim;
      return this;
    }

    /** @param kvHeads Hkv (default H) */
    public Builder optKvHeads(int kvHeads) {
      this.kvHeads = kvHeads;
      return this;
    }

    /** @param initStd standard deviation of the normal initialisation (default 0.02) */
    public Builder optInitStd(float initStd) {
      this.initStd = initStd;
      return this;
    }

    /** @param normEps RMSNorm epsilon (default 1e-5) */
    public Builder optNormEps(float normEps) {
      this.normEps = normEps;
      return this;
    }

    /**
     * @param qkv whether the attention's q, k, v projections have biases (default false)
     * @param output whether its o projection has a bias (default false)
     */
    public Builder optAttentionBias(boolean qkv, boolean output) {
      this.qkvBias = qkv;
      this.outputBias = output;
      return this;
    }

    /** @return the block; the child builders validate the values */
    public DecoderLayer build() {
      if (dim <= 0 || heads <= 0 || hiddenDim <= 0) {
        throw new IllegalArgumentException("DecoderLayer: setDim, setHeads and setHiddenDim (> 0) are required, got dim=" + dim + ", heads=" + heads + ", hiddenDim=" + hiddenDim);
      }
      return new DecoderLayer(this);
    }
  }
}
