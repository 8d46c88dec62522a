package dev.reft.policy.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import dev.reft.policy.ForwardOutput;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.Scalars;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The policy network: a Llama-layout decoder with a scalar value head (ReFT's value model shares the
 * backbone).
 *
 * <pre>
 * tokens (B, T) ─ embed_tokens ─▶ (B, T, C) ─ layers × N ─▶ norm ─┬─ lm_head ─▶ logits (B, T, V)
 *                                                                  └─ v_head  ─▶ values (B, T)
 * </pre>
 *
 * <p>Shape legend: B batch, T time, Tk key time, C model width, H heads, D head size, V vocabulary,
 * L maximum sequence length.
 *
 * <p>Parameters are named as in Hugging Face {@code LlamaForCausalLM} ({@link #namedParameters()}):
 * {@code model.embed_tokens.weight}, {@code model.layers.N.self_attn.q_proj.weight}, ..., {@code
 * model.norm.weight}, {@code lm_head.weight} (absent when tied to the embedding), the attention biases
 * {@code model.layers.N.self_attn.{q,k,v}_proj.bias} (Qwen2, Llama with {@code attention_bias}) and {@code
 * o_proj.bias} (Llama with {@code attention_bias}), plus {@code v_head.weight} (1, C) and {@code v_head.bias}.
 *
 * <p>All computations attach their results to the manager of the input arrays: run each batch in its own
 * sub-manager and close it afterwards. The block reads its parameters directly (one device, no
 * replication), so the {@link ParameterStore} of DJL's {@code forward} is not consulted.
 */
public final class LlamaDecoder extends AbstractBlock {

  /** The name of the value head's bias (absent from checkpoints written before it existed). */
  public static final String VALUE_HEAD_BIAS = "v_head.bias";

  /** The additive mask value for a forbidden (future or padding) key. */
  public static final float MASKED = -1e9f;

  private final ModelConfig config;
  private final Parameter embedTokens;
  private final List<DecoderLayer> layers;
  private final RmsNorm norm;
  private final Parameter lmHead;
  private final Parameter vHead;
  private final Parameter vHeadBias;
  private RotaryEmbedding rope;
  private NDArray causal; // (L, L): 0 on and below the diagonal, MASKED above
  private NDArray maskScale; // scalar 1e9

  private LlamaDecoder(Builder b) {
    config = b.config;
    int c = config.dim();
    embedTokens = addParameter(SwiGluMlp.weight("embed_tokens", config.vocabSize(), c, config.initStd()));
    List<DecoderLayer> list = new ArrayList<>();
    for (int i = 0; i < config.layers(); i++) {
      list.add(
          addChildBlock(
              "layers_" + i,
              DecoderLayer.builder()
                  .setDim(c)
                  .setHeads(config.heads())
                  .optKvHeads(config.kvHeads())
                  .setHiddenDim(config.hiddenDim())
                  .optInitStd(config.initStd())
                  .optNormEps(config.normEps())
                  .optAttentionBias(config.attentionBias(), config.outputBias())
                  .build()));
    }
    layers = Collections.unmodifiableList(list);
    norm = addChildBlock("norm", RmsNorm.builder().setDim(c).optEps(config.normEps()).build());
    lmHead = config.tieEmbeddings() ? null : addParameter(SwiGluMlp.weight("lm_head", config.vocabSize(), c, config.initStd()));
    vHead = addParameter(SwiGluMlp.weight("v_head", 1, c, config.initStd()));
    vHeadBias = addParameter(Parameter.builder().setName("v_head_bias").setType(Parameter.Type.BIAS)
        .optShape(new Shape(1)).optInitializer(new ConstantInitializer(0f)).build());
  }

  /** @return a builder; {@code setConfig} is required */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the configuration this block was built from */
  public ModelConfig config() {
    return config;
  }

  /**
   * Every parameter under its Hugging Face Llama name, in a fixed order (embedding, layers, final norm,
   * LM head, value head).
   *
   * @return an unmodifiable ordered map
   */
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> named = new LinkedHashMap<>();
    named.put("model.embed_tokens.weight", embedTokens);
    for (int i = 0; i < layers.size(); i++) {
      DecoderLayer layer = layers.get(i);
      String p = "model.layers." + i + ".";
      named.put(p + "input_layernorm.weight", layer.inputLayernorm().weight());
      named.put(p + "self_attn.q_proj.weight", layer.selfAttn().qProj());
      named.put(p + "self_attn.k_proj.weight", layer.selfAttn().kProj());
      named.put(p + "self_attn.v_proj.weight", layer.selfAttn().vProj());
      named.put(p + "self_attn.o_proj.weight", layer.selfAttn().oProj());
      if (layer.selfAttn().qBias() != null) {
        named.put(p + "self_attn.q_proj.bias", layer.selfAttn().qBias());
        named.put(p + "self_attn.k_proj.bias", layer.selfAttn().kBias());
        named.put(p + "self_attn.v_proj.bias", layer.selfAttn().vBias());
      }
      if (layer.selfAttn().oBias() != null) {
        named.put(p + "self_attn.o_proj.bias", layer.selfAttn().oBias());
      }
      named.put(p + "post_attention_layernorm.weight", layer.postAttentionLayernorm().weight());
      named.put(p + "mlp.gate_proj.weight", layer.mlp().gateProj());
      named.put(p + "mlp.up_proj.weight", layer.mlp().upProj());
      named.put(p + "mlp.down_proj.weight", layer.mlp().downProj());
    }
    named.put("model.norm.weight", norm.weight());
    if (lmHead != null) {
      named.put("lm_head.weight", lmHead);
    }
    named.put("v_head.weight", vHead);
    named.put(VALUE_HEAD_BIAS, vHeadBias);
    return Collections.unmodifiableMap(named);
  }

  /**
   * The training forward over whole sequences.
   *
   * @param tokens token ids (B, T), any integer type; T ≤ maxSeqLen
   * @param attentionMask (B, T): 1 for real tokens, 0 for padding (left or right). Positions count real
   *     tokens only, so a left-padded row gets the same positions as the unpadded sequence.
   * @param detachValue cut the value head's input from the graph, so that a value loss trains the head only
   *     and sends no gradient into the shared backbone
   * @return logits (B, T, V) and values (B, T), attached to {@code tokens}' manager
   */
  public ForwardOutput forward(NDArray tokens, NDArray attentionMask, boolean detachValue) {
    checkBatch(tokens, attentionMask);
    NDArray h = trunk(tokens, positions(attentionMask), causalMask(attentionMask), null); // (B, T, C)
    NDArray logits = Linear.linear(h, headWeight()).singletonOrThrow(); // (B, T, V)
    NDArray valueInput = detachValue ? h.stopGradient() : h; //                       (B, T, C)
    NDArray values = Linear.linear(valueInput, vHead.getArray(), vHeadBias.getArray()).singletonOrThrow()
        .squeeze(2); // (B, T)
    return new ForwardOutput(logits, values);
  }

  /**
   * An incremental forward that reads and extends a KV cache: the prefill of a prompt (T new tokens,
   * empty cache) or one decoding step (T = 1). No value head.
   *
   * @param tokens new token ids (B, T)
   * @param positions their positions (B, T), int64
   * @param mask additive mask (B, 1, T, Tk) over the cache's keys after appending, Tk = cache length + T
   *     (see {@link #causalMask} for the prefill)
   * @param cache the generation's cache; advanced by T
   * @param lastOnly whether to compute logits for the last position only
   * @return logits (B, T, V), or (B, 1, V) when {@code lastOnly}, attached to {@code tokens}' manager
   */
  public NDArray forwardCached(NDArray tokens, NDArray positions, NDArray mask, KvCache cache, boolean lastOnly) {
    NDArray h = trunk(tokens, positions, mask, cache); // (B, T, C)
    if (lastOnly) {
      h = h.get(new NDIndex(":, -1:, :")); // (B, 1, C)
    }
    return Linear.linear(h, headWeight()).singletonOrThrow();
  }

  /**
   * Positions from a padding mask: the number of real tokens before each token.
   *
   * @param attentionMask (B, T) of 1 (real) and 0 (padding)
   * @return (B, T) int64, attached to the mask's manager
   */
  public static NDArray positions(NDArray attentionMask) {
    NDArray valid = attentionMask.toType(DataType.INT64, false); // (B, T)
    return valid.cumSum(1).sub(valid);
  }

  /**
   * The additive mask of a full causal pass: each token attends to itself and earlier real tokens.
   *
   * @param attentionMask (B, T) of 1 (real) and 0 (padding), T ≤ maxSeqLen
   * @return (B, 1, T, T) of 0 and {@link #MASKED}, attached to the mask's manager
   */
  public NDArray causalMask(NDArray attentionMask) {
    Shape s = attentionMask.getShape();
    long b = s.get(0);
    long t = s.get(1);
    NDArray keys = attentionMask.toType(maskScale.getDataType(), false); // (B, T)
    NDArray keyMask = keys.mul(maskScale).sub(maskScale).reshape(b, 1, 1, t); // 0 real, -1e9 padding
    return keyMask.add(causal.get(keyMask.getManager(), new NDIndex(":{}, :{}", t, t))); // (B, 1, T, T)
  }

  private NDArray trunk(NDArray tokens, NDArray positions, NDArray mask, KvCache cache) {
    NDArray ids = tokens.toType(DataType.INT64, false);
    NDArray[] cosSin = rope.lookup(positions); // 2 × (B, 1, T, D)
    NDArray h = Embedding.embedding(ids, embedTokens.getArray(), SparseFormat.DENSE).singletonOrThrow(); // (B, T, C)
    for (int i = 0; i < layers.size(); i++) {
      h = layers.get(i).forward(h, cosSin[0], cosSin[1], mask, cache, i);
    }
    if (cache != null) {
      cache.advance(Math.toIntExact(ids.getShape().get(1)));
    }
    return norm.forward(h);
  }

  private NDArray headWeight() {
    return (lmHead == null ? embedTokens : lmHead).getArray();
  }

  private void checkBatch(NDArray tokens, NDArray attentionMask) {
    Shape s = tokens.getShape();
    if (s.dimension() != 2) {
      throw new IllegalArgumentException("tokens must be (B, T), got " + s);
    }
    if (!attentionMask.getShape().equals(s)) {
      throw new IllegalArgumentException("attentionMask " + attentionMask.getShape() + " must match tokens " + s);
    }
    if (s.get(1) > config.maxSeqLen()) {
      throw new IllegalArgumentException("sequence length " + s.get(1) + " exceeds maxSeqLen " + config.maxSeqLen());
    }
  }

  /**
   * DJL entry point: the training forward.
   *
   * @param inputs tokens (B, T) and attention mask (B, T)
   * @return logits (B, T, V) and values (B, T)
   */
  @Override
  protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
    ForwardOutput out = forward(inputs.get(0), inputs.get(1), false);
    return new NDList(out.logits(), out.values());
  }

  @Override
  public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
    super.initialize(manager, dataType, inputShapes);
    if (rope == null) {
      int l = config.maxSeqLen();
      rope = new RotaryEmbedding(manager, config.headDim(), l, config.ropeTheta(), config.ropeScaling(), dataType);
      float[] upper = new float[l * l];
      for (int i = 0; i < l; i++) {
        for (int j = i + 1; j < l; j++) {
          upper[i * l + j] = MASKED;
        }
      }
      causal = manager.create(upper, new Shape(l, l)).toType(dataType, false);
      maskScale = Scalars.of(manager, -MASKED, dataType);
    }
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape tokens = inputShapes[0];
    Shape hidden = tokens.add(config.dim()); // (B, T, C)
    for (DecoderLayer layer : layers) {
      layer.initialize(manager, dataType, hidden);
    }
    norm.initialize(manager, dataType, hidden);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape tokens = inputShapes[0];
    return new Shape[] {tokens.add(config.vocabSize()), tokens};
  }

  /** Builder: {@code setConfig} required. */
  public static final class Builder {
    private ModelConfig config;

    private Builder() {}

    /** @param config the model's shape */
    public Builder setConfig(ModelConfig config) {
      this.config = config;
      return this;
    }

    /** @return the block, uninitialised */
    public LlamaDecoder build() {
      if (config == null) {
        throw new IllegalArgumentException("LlamaDecoder: setConfig is required");
      }
      return new LlamaDecoder(this);
    }
  }
}
