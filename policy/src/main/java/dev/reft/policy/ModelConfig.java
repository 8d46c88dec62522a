package dev.reft.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The shape of the policy network: a decoder-only transformer in the Llama layout with a scalar value
 * head. Serialised as a Hugging Face style {@code config.json} (the same keys as {@code LlamaConfig}), so
 * that a checkpoint's weights can be read by Llama tooling and real Llama / Qwen2 / SmolLM configs map
 * onto it.
 *
 * @param vocabSize number of token ids (V); the embedding and the LM head have this many rows
 * @param dim width of the residual stream (C, {@code hidden_size})
 * @param layers number of decoder layers ({@code num_hidden_layers})
 * @param heads number of query heads (H, {@code num_attention_heads}); must divide {@code dim}
 * @param kvHeads number of key/value heads ({@code num_key_value_heads}); {@code heads} for classic
 *     multi-head attention, fewer for grouped-query attention; must divide {@code heads}
 * @param hiddenDim width of the SwiGLU MLP ({@code intermediate_size}); the presets use ⌊8·dim/3⌋
 * @param maxSeqLen longest sequence (prompt + response) the model accepts; bounds the rotary tables
 *     and the causal mask ({@code max_position_embeddings})
 * @param tieEmbeddings whether the LM head reuses the token embedding matrix ({@code
 *     tie_word_embeddings}); a checkpoint then has no {@code lm_head.weight}
 * @param initStd standard deviation of the normal initialisation of every projection and embedding
 *     ({@code initializer_range}); RMSNorm weights start at 1
 * @param ropeTheta base of the rotary position embedding frequencies ({@code rope_theta})
 * @param normEps epsilon added to the mean square in RMSNorm ({@code rms_norm_eps})
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
    float normEps) {

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
    return new ModelConfig(newVocabSize, dim, layers, heads, kvHeads, hiddenDim, maxSeqLen, tieEmbeddings, initStd, ropeTheta, normEps);
  }

  /** @return a copy with another maximum sequence length */
  public ModelConfig withMaxSeqLen(int newMaxSeqLen) {
    return new ModelConfig(vocabSize, dim, layers, heads, kvHeads, hiddenDim, newMaxSeqLen, tieEmbeddings, initStd, ropeTheta, normEps);
  }

  /** @return a copy with a different number of key/value heads (grouped-query attention) */
  public ModelConfig withKvHeads(int newKvHeads) {
    return new ModelConfig(vocabSize, dim, layers, heads, newKvHeads, hiddenDim, maxSeqLen, tieEmbeddings, initStd, ropeTheta, normEps);
  }

  /** @return a copy with or without a separate LM head */
  public ModelConfig withTieEmbeddings(boolean tie) {
    return new ModelConfig(vocabSize, dim, layers, heads, kvHeads, hiddenDim, maxSeqLen, tie, initStd, ropeTheta, normEps);
  }

  /**
   * The number of trainable scalars: embeddings, attention and MLP projections, RMSNorm weights, the LM
   * head when untied, and the value head (weight and bias).
   *
   * @return the parameter count
   */
  public long parameterCount() {
    long d = dim;
    long kv = (long) kvHeads * headDim();
    long perLayer = d * d /* q */ + 2 * d * kv /* k, v */ + d * d /* o */ + 3 * d * hiddenDim /* gate, up, down */ + 2 * d /* norms */;
    long embed = (long) vocabSize * d;
    return embed + layers * perLayer + d /* final norm */ + (tieEmbeddings ? 0 : embed) + d + 1 /* value head and bias */;
  }

  /**
   * This configuration as a Hugging Face {@code config.json} ({@code LlamaForCausalLM} keys).
   *
   * @param bosId the tokenizer's BOS id (recorded for Llama tooling)
   * @param eosId the tokenizer's EOS id
   * @param padId the tokenizer's PAD id
   * @return pretty-printed JSON with keys in a fixed order
   */
  public String toJson(int bosId, int eosId, int padId) {
    ObjectNode n = JSON.createObjectNode();
    n.putArray("architectures").add("LlamaForCausalLM");
    n.put("model_type", "llama");
    n.put("vocab_size", vocabSize);
    n.put("hidden_size", dim);
    n.put("num_hidden_layers", layers);
    n.put("num_attention_heads", heads);
    n.put("num_key_value_heads", kvHeads);
    n.put("intermediate_size", hiddenDim);
    n.put("max_position_embeddings", maxSeqLen);
    n.put("tie_word_embeddings", tieEmbeddings);
    n.put("initializer_range", initStd);
    n.put("rope_theta", ropeTheta);
    n.put("rms_norm_eps", normEps);
    n.put("hidden_act", "silu");
    n.put("attention_bias", false);
    n.put("mlp_bias", false);
    n.put("torch_dtype", "float32");
    n.put("bos_token_id", bosId);
    n.put("eos_token_id", eosId);
    n.put("pad_token_id", padId);
    n.put("reft_value_head", "v_head.weight: linear(hidden_size -> 1) on the final normed hidden state");
    try {
      return JSON.writeValueAsString(n) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a {@code config.json} written by {@link #toJson} (or a Hugging Face Llama config without
   * rope scaling).
   *
   * @param json the file's text
   * @return the configuration
   * @throws IllegalArgumentException when a required key is missing or a value is invalid
   */
  public static ModelConfig fromJson(String json) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("config.json is not valid JSON: " + e.getMessage(), e);
    }
    int dim = intField(n, "hidden_size");
    int heads = intField(n, "num_attention_heads");
    return new ModelConfig(
        intField(n, "vocab_size"),
        dim,
        intField(n, "num_hidden_layers"),
        heads,
        n.has("num_key_value_heads") ? intField(n, "num_key_value_heads") : heads,
        intField(n, "intermediate_size"),
        intField(n, "max_position_embeddings"),
        n.path("tie_word_embeddings").asBoolean(false),
        (float) n.path("initializer_range").asDouble(0.02),
        (float) n.path("rope_theta").asDouble(10_000),
        (float) n.path("rms_norm_eps").asDouble(1e-5));
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
