package dev.reft.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The shape of the policy network: a decoder-only transformer in the Llama layout with a scalar value
 * head. Serialised as a Hugging Face style {@code config.json} (the keys of {@code LlamaConfig}, {@code
 * Qwen2Config} or {@code MistralConfig}, see {@link #toJson} and {@link #fromJson}), so that a checkpoint's
 * weights can be read by Hugging Face tooling and real Llama / Qwen2 / Mistral / SmolLM configs map onto it.
 *
 * @param vocabSize number of token ids (V); the embedding and the LM head have this many rows
 * @param dim width of the residual stream (C, {@code hidden_size})
 * @param layers number of decoder layers ({@code num_hidden_layers})
 * @param heads number of query heads (H, {@code num_attention_heads}); must divide {@code dim}
 * @param kvHeads number of key/value heads ({@code num_key_value_heads}); {@code heads} for classic
 *     multi-head attention, fewer for grouped-query attention; must divide {@code heads}
 * @param hiddenDim width of the SwiGLU MLP ({@code intermediate_size}); the presets use ⌊8·dim/3⌋
 * @param maxSeqLen longest sequence (prompt + response) the model accepts; bounds the rotary tables,
 *     the causal mask and the KV cache. Equal to {@code maxPositionEmbeddings} for the project's own
 *     models; an imported model usually runs with a shorter window than it was trained for (a 32k-token
 *     causal mask alone would take 4 GB)
 * @param tieEmbeddings whether the LM head reuses the token embedding matrix ({@code
 *     tie_word_embeddings}); a checkpoint then has no {@code lm_head.weight}
 * @param initStd standard deviation of the normal initialisation of every projection and embedding
 *     ({@code initializer_range}); RMSNorm weights start at 1, biases at 0
 * @param ropeTheta base of the rotary position embedding frequencies ({@code rope_theta})
 * @param normEps epsilon added to the mean square in RMSNorm ({@code rms_norm_eps})
 * @param architecture the Hugging Face family the config is written as; with {@code attentionBias} it
 *     decides which projections have biases (see {@link Architecture})
 * @param attentionBias whether q_proj, k_proj and v_proj have biases (Llama's {@code attention_bias},
 *     always true for Qwen2, false for Mistral); Llama then also has an o_proj bias
 * @param ropeScaling the {@code llama3} frequency adjustment of {@code rope_scaling}, or null for none
 * @param maxPositionEmbeddings the context length the model was trained for ({@code
 *     max_position_embeddings}), at least {@code maxSeqLen}; written back on export
 */
public record ModelConfig(
    int vocabSize,
    int dim,
    int layers,
    int heads,
    int kvHeads,
    int hiddenDim,
    int maxSeqLen,
    boolean tieEmbeddings,
    float initStd,
    float ropeTheta,
    float normEps,
    Architecture architecture,
    boolean attentionBias,
    RopeScaling ropeScaling,
    int maxPositionEmbeddings) {

  /**
   * The {@code llama3} rope scaling of Llama 3.1 / 3.2 ({@code rope_scaling: {"rope_type": "llama3", ...}}):
   * rotary frequencies whose wavelength exceeds {@code originalMaxPositionEmbeddings / lowFreqFactor} are
   * divided by {@code factor}, those below {@code originalMaxPositionEmbeddings / highFreqFactor} are kept,
   * and the ones in between are interpolated (Hugging Face's {@code _compute_llama3_parameters}).
   *
   * @param factor the division of the low frequencies (8 for Llama 3.1)
   * @param lowFreqFactor 1 for Llama 3.1
   * @param highFreqFactor 4 for Llama 3.1
   * @param originalMaxPositionEmbeddings the pre-training context (8192 for Llama 3.1)
   */
  public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
    /** Validates the fields. */
    public RopeScaling {
      require(factor > 0 && Double.isFinite(factor), "rope_scaling.factor must be positive: " + factor);
      require(lowFreqFactor > 0 && highFreqFactor > lowFreqFactor,
          "rope_scaling needs 0 < low_freq_factor < high_freq_factor: " + lowFreqFactor + ", " + highFreqFactor);
      require(originalMaxPositionEmbeddings > 0, "rope_scaling.original_max_position_embeddings must be positive: " + originalMaxPositionEmbeddings);
    }
  }

  /**
   * A Llama-layout configuration without biases or rope scaling, trained for {@code maxSeqLen} positions:
   * the project's own models.
   */
  public ModelConfig(int vocabSize, int dim, int layers, int heads, int kvHeads, int hiddenDim, int maxSeqLen,
      boolean tieEmbeddings, float initStd, float ropeTheta, float normEps) {
    this(vocabSize, dim, layers, heads, kvHeads, hiddenDim, maxSeqLen, tieEmbeddings, initStd, ropeTheta, normEps,
        Architecture.LLAMA, false, null, maxSeqLen);
  }

  /** Default longest sequence of the presets: a P-CoT prompt plus program fits comfortably. */
  public static final int DEFAULT_MAX_SEQ_LEN = 512;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  /** Validates the fields; every violation names the offending value. */
  public ModelConfig {
    require(vocabSize > 0, "vocabSize must be positive: " + vocabSize);
    require(dim > 0, "dim must be positive: " + dim);
    require(layers > 0, "layers must be positive: " + layers);
    require(heads > 0 && dim % heads == 0, "heads must divide dim: heads=" + heads + ", dim=" + dim);
    require(kvHeads > 0 && heads % kvHeads == 0, "kvHeads must divide heads: kvHeads=" + kvHeads + ", heads=" + heads);
    require((dim / heads) % 2 == 0, "the head size dim/heads must be even for rotary embeddings: " + dim / heads);
    require(hiddenDim > 0, "hiddenDim must be positive: " + hiddenDim);
    require(maxSeqLen > 0, "maxSeqLen must be positive: " + maxSeqLen);
    require(initStd > 0 && Float.isFinite(initStd), "initStd must be positive: " + initStd);
    require(ropeTheta > 0 && Float.isFinite(ropeTheta), "ropeTheta must be positive: " + ropeTheta);
    require(normEps > 0 && Float.isFinite(normEps), "normEps must be positive: " + normEps);
    require(architecture != null, "architecture is required");
    require(architecture != Architecture.QWEN2 || attentionBias, "Qwen2 always has q/k/v biases: attentionBias must be true");
    require(architecture != Architecture.MISTRAL || !attentionBias, "Mistral has no attention biases: attentionBias must be false");
    require(maxPositionEmbeddings >= maxSeqLen,
        "maxPositionEmbeddings must be at least maxSeqLen: " + maxPositionEmbeddings + " < " + maxSeqLen);
  }

  /**
   * The {@code tiny} preset: 2 layers, dim 128, 4 heads, SwiGLU 341, tied embeddings. About 0.4 M
   * parameters plus 128 per vocabulary entry; trains from scratch on two CPU cores in minutes.
   *
   * @param vocabSize the tokenizer's vocabulary size
   * @return the preset
   */
  public static ModelConfig tiny(int vocabSize) {
    return preset(vocabSize, 2, 128);
  }

  /**
   * The {@code small} preset: 4 layers, dim 256, 4 heads, SwiGLU 682, tied embeddings. About 3.1 M
   * parameters plus 256 per vocabulary entry.
   *
   * @param vocabSize the tokenizer's vocabulary size
   * @return the preset
   */
  public static ModelConfig small(int vocabSize) {
    return preset(vocabSize, 4, 256);
  }

  /**
   * A preset by name.
   *
   * @param name {@code tiny} or {@code small} (case-insensitive)
   * @param vocabSize the tokenizer's vocabulary size
   * @return the preset
   * @throws IllegalArgumentException for any other name
   */
  public static ModelConfig preset(String name, int vocabSize) {
    return switch (name.toLowerCase(java.util.Locale.ROOT)) {
      case "tiny" -> tiny(vocabSize);
      case "small" -> small(vocabSize);
      default -> throw new IllegalArgumentException("unknown model preset '" + name + "' (expected tiny or small)");
    };
  }

  private static ModelConfig preset(int vocabSize, int layers, int dim) {
    return new ModelConfig(vocabSize, dim, layers, 4, 4, swiGluHidden(dim), DEFAULT_MAX_SEQ_LEN, true, 0.02f, 10_000f, 1e-5f);
  }

  /**
   * The SwiGLU width that keeps the MLP's parameter count equal to a 4·dim GELU MLP: ⌊8·dim/3⌋.
   *
   * @param dim the residual width
   * @return ⌊8·dim/3⌋
   */
  public static int swiGluHidden(int dim) {
    return 8 * dim / 3;
  }

  /** @return the size of one attention head, D = dim / heads */
  public int headDim() {
    return dim / heads;
  }

  /** @return a copy with another vocabulary size */
  public ModelConfig withVocabSize(int newVocabSize) {
    return new ModelConfig(newVocabSize, dim, layers, heads, kvHeads, hiddenDim, maxSeqLen, tieEmbeddings, initStd,
        ropeTheta, normEps, architecture, attentionBias, ropeScaling, maxPositionEmbeddings);
  }

  /**
   * A copy with another maximum sequence length (the window the model runs with). The trained context
   * {@code maxPositionEmbeddings} stays, unless the new window exceeds it: then it grows to the window.
   *
   * @param newMaxSeqLen the new window
   * @return the copy
   */
  public ModelConfig withMaxSeqLen(int newMaxSeqLen) {
    return new ModelConfig(vocabSize, dim, layers, heads, kvHeads, hiddenDim, newMaxSeqLen, tieEmbeddings, initStd,
        ropeTheta, normEps, architecture, attentionBias, ropeScaling, Math.max(maxPositionEmbeddings, newMaxSeqLen));
  }

  /** @return a copy with a different number of key/value heads (grouped-query attention) */
  public ModelConfig withKvHeads(int newKvHeads) {
    return new ModelConfig(vocabSize, dim, layers, heads, newKvHeads, hiddenDim, maxSeqLen, tieEmbeddings, initStd,
        ropeTheta, normEps, architecture, attentionBias, ropeScaling, maxPositionEmbeddings);
  }

  /** @return a copy with or without a separate LM head */
  public ModelConfig withTieEmbeddings(boolean tie) {
    return new ModelConfig(vocabSize, dim, layers, heads, kvHeads, hiddenDim, maxSeqLen, tie, initStd, ropeTheta,
        normEps, architecture, attentionBias, ropeScaling, maxPositionEmbeddings);
  }

  /**
   * A copy written as another Hugging Face family, with its attention biases.
   *
   * @param newArchitecture the family
   * @param bias whether q/k/v have biases (must be true for Qwen2, false for Mistral)
   * @return the copy
   */
  public ModelConfig withArchitecture(Architecture newArchitecture, boolean bias) {
    return new ModelConfig(vocabSize, dim, layers, heads, kvHeads, hiddenDim, maxSeqLen, tieEmbeddings, initStd,
        ropeTheta, normEps, newArchitecture, bias, ropeScaling, maxPositionEmbeddings);
  }

  /** @return a copy with another rotary base and {@code llama3} scaling (null for none) */
  public ModelConfig withRope(float theta, RopeScaling scaling) {
    return new ModelConfig(vocabSize, dim, layers, heads, kvHeads, hiddenDim, maxSeqLen, tieEmbeddings, initStd,
        theta, normEps, architecture, attentionBias, scaling, maxPositionEmbeddings);
  }

  /** @return whether {@code o_proj} has a bias (Llama with {@code attention_bias}) */
  public boolean outputBias() {
    return architecture.outputBias(attentionBias);
  }

  /**
   * The number of trainable scalars: embeddings, attention and MLP projections and their biases, RMSNorm
   * weights, the LM head when untied, and the value head (weight and bias).
   *
   * @return the parameter count
   */
  public long parameterCount() {
    long d = dim;
    long kv = (long) kvHeads * headDim();
    long perLayer = d * d /* q */ + 2 * d * kv /* k, v */ + d * d /* o */ + 3 * d * hiddenDim /* gate, up, down */ + 2 * d /* norms */
        + (attentionBias ? d + 2 * kv : 0) + (outputBias() ? d : 0);
    long embed = (long) vocabSize * d;
    return embed + layers * perLayer + d /* final norm */ + (tieEmbeddings ? 0 : embed) + d + 1 /* value head and bias */;
  }

  /**
   * This configuration as a Hugging Face {@code config.json} of its {@link #architecture()}: the keys
   * {@code LlamaConfig} / {@code Qwen2Config} / {@code MistralConfig} read, plus the token ids, plus {@code
   * reft_max_seq_len} when the window is shorter than {@code max_position_embeddings}. For the project's
   * own models (Llama, no bias, no scaling) the output is the same as before these options existed.
   *
   * @param bosId the tokenizer's BOS id (recorded for Llama tooling)
   * @param eosId the tokenizer's EOS id
   * @param padId the tokenizer's PAD id
   * @return pretty-printed JSON with keys in a fixed order
   */
  public String toJson(int bosId, int eosId, int padId) {
    ObjectNode n = JSON.createObjectNode();
    n.putArray("architectures").add(architecture.hfClass());
    n.put("model_type", architecture.modelType());
    n.put("vocab_size", vocabSize);
    n.put("hidden_size", dim);
    n.put("num_hidden_layers", layers);
    n.put("num_attention_heads", heads);
    n.put("num_key_value_heads", kvHeads);
    n.put("intermediate_size", hiddenDim);
    n.put("max_position_embeddings", maxPositionEmbeddings);
    n.put("tie_word_embeddings", tieEmbeddings);
    n.put("initializer_range", initStd);
    n.put("rope_theta", ropeTheta);
    if (ropeScaling != null) {
      ObjectNode r = n.putObject("rope_scaling");
      r.put("rope_type", "llama3");
      r.put("factor", ropeScaling.factor());
      r.put("low_freq_factor", ropeScaling.lowFreqFactor());
      r.put("high_freq_factor", ropeScaling.highFreqFactor());
      r.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
    }
    n.put("rms_norm_eps", normEps);
    n.put("hidden_act", "silu");
    switch (architecture) {
      case LLAMA -> {
        n.put("attention_bias", attentionBias);
        n.put("mlp_bias", false);
      }
      case QWEN2 -> {
        n.put("use_sliding_window", false);
        n.putNull("sliding_window");
        n.put("max_window_layers", layers);
      }
      case MISTRAL -> n.putNull("sliding_window");
    }
    n.put("torch_dtype", "float32");
    n.put("bos_token_id", bosId);
    n.put("eos_token_id", eosId);
    n.put("pad_token_id", padId);
    if (maxSeqLen != maxPositionEmbeddings) {
      n.put("reft_max_seq_len", maxSeqLen);
    }
    n.put("reft_value_head", "v_head.weight: linear(hidden_size -> 1) on the final normed hidden state");
    try {
      return JSON.writeValueAsString(n) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a {@code config.json} written by {@link #toJson}, or a Hugging Face config of one of the
   * supported {@link Architecture}s. The architecture comes from {@code architectures[0]} (else {@code
   * model_type}); the window {@code maxSeqLen} is {@code reft_max_seq_len} when present, else {@code
   * max_position_embeddings} (limited to Mistral's {@code sliding_window}, within which attention is
   * identical). Anything the network would compute differently is refused with the key named: another
   * activation than silu, MLP biases, a {@code head_dim} other than hidden_size / num_attention_heads,
   * rope scaling other than {@code llama3}, Qwen2's sliding-window layers.
   *
   * @param json the file's text
   * @return the configuration
   * @throws IllegalArgumentException when a required key is missing or a value is invalid or unsupported
   */
  public static ModelConfig fromJson(String json) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("config.json is not valid JSON: " + e.getMessage(), e);
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("config.json is not a JSON object");
    }
    Architecture architecture = architecture(n);
    int dim = intField(n, "hidden_size");
    int heads = intField(n, "num_attention_heads");
    String act = n.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new IllegalArgumentException("config.json: hidden_act '" + act + "' is not supported (the policy's MLP is SwiGLU with silu)");
    }
    if (n.path("mlp_bias").asBoolean(false)) {
      throw new IllegalArgumentException("config.json: mlp_bias true is not supported (the policy's MLP has no biases)");
    }
    if (n.hasNonNull("head_dim") && heads > 0 && n.get("head_dim").asInt() != dim / heads) {
      throw new IllegalArgumentException("config.json: head_dim " + n.get("head_dim").asInt()
          + " differs from hidden_size / num_attention_heads = " + dim / heads + ", which is not supported");
    }
    if (architecture == Architecture.QWEN2 && n.path("use_sliding_window").asBoolean(false)) {
      throw new IllegalArgumentException("config.json: use_sliding_window true is not supported (Qwen2 with sliding-window layers)");
    }
    boolean bias = switch (architecture) {
      case LLAMA -> n.path("attention_bias").asBoolean(false);
      case QWEN2 -> true;
      case MISTRAL -> false;
    };
    JsonNode ropeParameters = n.path("rope_parameters"); // transformers 5 moves rope_theta / rope_scaling here
    double theta = n.hasNonNull("rope_theta") ? n.get("rope_theta").asDouble() : ropeParameters.path("rope_theta").asDouble(10_000);
    RopeScaling scaling = ropeScaling(n.hasNonNull("rope_scaling") ? n.get("rope_scaling") : ropeParameters);
    int positions = intField(n, "max_position_embeddings");
    int window = n.hasNonNull("reft_max_seq_len") ? intField(n, "reft_max_seq_len") : positions;
    if (architecture == Architecture.MISTRAL && n.hasNonNull("sliding_window") && n.get("sliding_window").asInt() > 0) {
      window = Math.min(window, n.get("sliding_window").asInt());
    }
    return new ModelConfig(
        intField(n, "vocab_size"),
        dim,
        intField(n, "num_hidden_layers"),
        heads,
        n.hasNonNull("num_key_value_heads") ? intField(n, "num_key_value_heads") : heads,
        intField(n, "intermediate_size"),
        window,
        n.path("tie_word_embeddings").asBoolean(false),
        (float) n.path("initializer_range").asDouble(0.02),
        (float) theta,
        (float) n.path("rms_norm_eps").asDouble(1e-5),
        architecture,
        bias,
        scaling,
        positions);
  }

  private static Architecture architecture(JsonNode n) {
    JsonNode archs = n.get("architectures");
    if (archs != null && archs.isArray() && archs.size() > 0) {
      return Architecture.ofHfClass(archs.get(0).asText());
    }
    if (n.hasNonNull("model_type")) {
      return Architecture.ofModelType(n.get("model_type").asText());
    }
    throw new IllegalArgumentException("config.json has neither architectures nor model_type (supported: " + Architecture.supported() + ")");
  }

  private static RopeScaling ropeScaling(JsonNode r) {
    if (r == null || r.isMissingNode() || r.isNull()) {
      return null;
    }
    String type = r.hasNonNull("rope_type") ? r.get("rope_type").asText() : r.path("type").asText("default");
    switch (type) {
      case "default":
        return null;
      case "llama3":
        for (String key : new String[] {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
          if (!r.hasNonNull(key) || !r.get(key).isNumber()) {
            throw new IllegalArgumentException("config.json: rope_scaling of type llama3 lacks a numeric '" + key + "'");
          }
        }
        return new RopeScaling(r.get("factor").asDouble(), r.get("low_freq_factor").asDouble(), r.get("high_freq_factor").asDouble(),
            r.get("original_max_position_embeddings").asInt());
      default:
        throw new IllegalArgumentException("config.json: rope_scaling type '" + type + "' is not supported (supported: llama3)");
    }
  }

  private static int intField(JsonNode n, String key) {
    JsonNode v = n.get(key);
    if (v == null || !v.canConvertToInt()) {
      throw new IllegalArgumentException("config.json: missing or non-integer '" + key + "'");
    }
    return v.intValue();
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
