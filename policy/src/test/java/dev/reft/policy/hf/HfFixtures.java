package dev.reft.policy.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Tiny random Hugging Face model directories, written independently of the project's own writers (its
 * safetensors writer, ModelConfig.toJson): config.json, safetensors weights (F32, F16 or BF16, one file or
 * shards with an index), a byte-level BPE tokenizer.json, tokenizer_config.json and generation_config.json.
 *
 * <p>Every weight is rounded to bfloat16 precision (8 significant bits, magnitudes ≥ 2⁻¹² or 0), so F32, F16
 * and BF16 files of the same spec hold exactly the same values.
 */
public final class HfFixtures {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Merges of the fixture tokenizer (applied in order): a few English pieces. */
  static final List<String> MERGES = List.of("Ġ t", "h e", "Ġt he", "i n", "Ġ a", "Ġ s", "e r", "a n", "o n", "Ġ c", "a t", "Ġc at");

  private HfFixtures() {}

  /**
   * What to write.
   *
   * @param architecture LlamaForCausalLM, Qwen2ForCausalLM or MistralForCausalLM (anything else for the error path)
   * @param hidden hidden_size
   * @param layers num_hidden_layers
   * @param heads num_attention_heads
   * @param kvHeads num_key_value_heads
   * @param intermediate intermediate_size
   * @param tied tie_word_embeddings (then no lm_head.weight)
   * @param ropeTheta rope_theta
   * @param rmsEps rms_norm_eps
   * @param maxPositions max_position_embeddings
   * @param spareVocab embedding rows beyond the tokenizer's ids
   * @param dtype F32, F16 or BF16
   * @param shards 1 for model.safetensors, more for an index and that many shards
   * @param seed the weights' seed
   * @param std the weights' standard deviation (RMSNorm weights are 1 + N(0, 0.1²))
   * @param qwenSpecials the tokenizer's special tokens: Qwen's (ids named by generation_config.json) or
   *     Llama's {@code <s>}, {@code </s>} (named by tokenizer_config.json)
   */
  public record Spec(String architecture, int hidden, int layers, int heads, int kvHeads, int intermediate, boolean tied,
      double ropeTheta, double rmsEps, int maxPositions, int spareVocab, String dtype, int shards, long seed, double std,
      boolean qwenSpecials) {

    /** Llama layout: grouped-query (4 over 2), untied, θ 500,000. */
    public static Spec llama() {
      return new Spec("LlamaForCausalLM", 64, 2, 4, 2, 128, false, 500_000, 1e-5, 128, 0, "F32", 1, 11, 0.15, false);
    }

    /**
     * Qwen2 layout: q/k/v biases, 6 query heads over 2 (groups of 3), tied, θ 1e6, ε 1e-6, spare vocabulary rows, two
     * shards. (Head size 16: Jlama's vectorised dot products read past the end of 8-float heads.)
     */
    public static Spec qwen2() {
      return new Spec("Qwen2ForCausalLM", 96, 2, 6, 2, 160, true, 1_000_000, 1e-6, 128, 9, "F32", 2, 12, 0.15, true);
    }

    /** @return a copy stored as another dtype */
    public Spec withDtype(String d) {
      return new Spec(architecture, hidden, layers, heads, kvHeads, intermediate, tied, ropeTheta, rmsEps, maxPositions, spareVocab, d,
          shards, seed, std, qwenSpecials);
    }

    /** @return a copy under another architecture name */
    public Spec withArchitecture(String a) {
      return new Spec(a, hidden, layers, heads, kvHeads, intermediate, tied, ropeTheta, rmsEps, maxPositions, spareVocab, dtype,
          shards, seed, std, qwenSpecials);
    }

    /** @return a copy with another shard count */
    public Spec withShards(int n) {
      return new Spec(architecture, hidden, layers, heads, kvHeads, intermediate, tied, ropeTheta, rmsEps, maxPositions, spareVocab,
          dtype, n, seed, std, qwenSpecials);
    }

    boolean qkvBias() {
      return architecture.equals("Qwen2ForCausalLM");
    }

    int tokenizerSize() {
      return 256 + MERGES.size() + (qwenSpecials ? 3 : 2);
    }

    /** @return vocab_size: the tokenizer's ids plus the spare rows */
    public int vocab() {
      return tokenizerSize() + spareVocab;
    }
  }

  /** A written directory: its path and the exact weight values stored, by name. */
  public record Written(Path dir, Map<String, float[]> weights) {}

  /**
   * Writes a directory.
   *
   * @param dir the directory (created)
   * @param spec what to write
   * @return the directory and its weights
   * @throws IOException when writing fails
   */
  public static Written write(Path dir, Spec spec) throws IOException {
    Files.createDirectories(dir);
    Map<String, float[]> w = weights(spec);
    Map<String, long[]> shapes = shapes(spec);
    Files.writeString(dir.resolve("config.json"), config(spec));
    Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson(spec.qwenSpecials()));
    int tokenizerSize = spec.tokenizerSize();
    if (spec.qwenSpecials()) { // Qwen: no BOS in tokenizer_config; ids in generation_config, EOS as a list
      Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": null, \"eos_token\": \"<|im_end|>\", \"pad_token\": null}\n");
      Files.writeString(dir.resolve("generation_config.json"), "{\"bos_token_id\": " + (tokenizerSize - 3) + ", \"eos_token_id\": ["
          + (tokenizerSize - 1) + ", " + (tokenizerSize - 3) + "], \"pad_token_id\": " + (tokenizerSize - 3) + "}\n");
    } else { // Llama: strings and {"content": ...} objects in tokenizer_config, no pad
      Files.writeString(dir.resolve("tokenizer_config.json"),
          "{\"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\", \"lstrip\": false}, \"tokenizer_class\": \"PreTrainedTokenizerFast\"}\n");
    }
    // An extra tensor that old checkpoints carry and the policy does not need.
    Map<String, float[]> stored = new LinkedHashMap<>(w);
    Map<String, long[]> storedShapes = new LinkedHashMap<>(shapes);
    float[] invFreq = new float[spec.hidden() / spec.heads() / 2];
    for (int i = 0; i < invFreq.length; i++) {
      invFreq[i] = toBf16Precision((float) Math.pow(spec.ropeTheta(), -2.0 * i / (spec.hidden() / spec.heads())));
    }
    stored.put("model.layers.0.self_attn.rotary_emb.inv_freq", invFreq);
    storedShapes.put("model.layers.0.self_attn.rotary_emb.inv_freq", new long[] {invFreq.length});

    List<String> names = new ArrayList<>(stored.keySet());
    if (spec.shards() <= 1) {
      writeSafetensors(dir.resolve("model.safetensors"), names, stored, storedShapes, spec.dtype());
    } else {
      ObjectNode index = JSON.createObjectNode();
      index.putObject("metadata").put("total_size", 0);
      ObjectNode map = index.putObject("weight_map");
      int per = (names.size() + spec.shards() - 1) / spec.shards();
      for (int s = 0; s < spec.shards(); s++) {
        String file = String.format("model-%05d-of-%05d.safetensors", s + 1, spec.shards());
        List<String> part = names.subList(s * per, Math.min(names.size(), (s + 1) * per));
        writeSafetensors(dir.resolve(file), part, stored, storedShapes, spec.dtype());
        part.forEach(n -> map.put(n, file));
      }
      JSON.writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
    }
    return new Written(dir, w);
  }

  /** The parameter shapes of a spec, by Hugging Face name. */
  static Map<String, long[]> shapes(Spec s) {
    Map<String, long[]> out = new LinkedHashMap<>();
    int d = s.hidden() / s.heads();
    out.put("model.embed_tokens.weight", new long[] {s.vocab(), s.hidden()});
    for (int l = 0; l < s.layers(); l++) {
      String p = "model.layers." + l + ".";
      out.put(p + "input_layernorm.weight", new long[] {s.hidden()});
      out.put(p + "self_attn.q_proj.weight", new long[] {(long) s.heads() * d, s.hidden()});
      out.put(p + "self_attn.k_proj.weight", new long[] {(long) s.kvHeads() * d, s.hidden()});
      out.put(p + "self_attn.v_proj.weight", new long[] {(long) s.kvHeads() * d, s.hidden()});
      if (s.qkvBias()) {
        out.put(p + "self_attn.q_proj.bias", new long[] {(long) s.heads() * d});
        out.put(p + "self_attn.k_proj.bias", new long[] {(long) s.kvHeads() * d});
        out.put(p + "self_attn.v_proj.bias", new long[] {(long) s.kvHeads() * d});
      }
      out.put(p + "self_attn.o_proj.weight", new long[] {s.hidden(), (long) s.heads() * d});
      out.put(p + "post_attention_layernorm.weight", new long[] {s.hidden()});
      out.put(p + "mlp.gate_proj.weight", new long[] {s.intermediate(), s.hidden()});
      out.put(p + "mlp.up_proj.weight", new long[] {s.intermediate(), s.hidden()});
      out.put(p + "mlp.down_proj.weight", new long[] {s.hidden(), s.intermediate()});
    }
    out.put("model.norm.weight", new long[] {s.hidden()});
    if (!s.tied()) {
      out.put("lm_head.weight", new long[] {s.vocab(), s.hidden()});
    }
    return out;
  }

  static Map<String, float[]> weights(Spec s) {
    Random random = new Random(s.seed());
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : shapes(s).entrySet()) {
      long n = 1;
      for (long dim : e.getValue()) {
        n *= dim;
      }
      float[] v = new float[(int) n];
      boolean norm = e.getKey().endsWith("norm.weight");
      for (int i = 0; i < v.length; i++) {
        v[i] = toBf16Precision((float) (norm ? 1 + 0.1 * random.nextGaussian() : s.std() * random.nextGaussian()));
      }
      out.put(e.getKey(), v);
    }
    return out;
  }

  /** Rounds to the nearest bfloat16 (ties to even); flushes magnitudes below 2⁻¹² to 0 so F16 holds it exactly too. */
  static float toBf16Precision(float x) {
    if (Math.abs(x) < 0x1.0p-12f) {
      return 0f;
    }
    int bits = Float.floatToIntBits(x);
    int rounded = (bits + 0x7FFF + ((bits >>> 16) & 1)) & 0xFFFF0000;
    return Float.intBitsToFloat(rounded);
  }

  /** binary32 → binary16 for values that are exact in binary16 (normal range, ≤ 11 significant bits). */
  static short toHalfExact(float x) {
    if (x == 0f) {
      return 0;
    }
    int bits = Float.floatToIntBits(x);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = ((bits >>> 23) & 0xFF) - 127 + 15;
    int mantissa = bits & 0x7FFFFF;
    if (exponent <= 0 || exponent >= 31 || (mantissa & 0x1FFF) != 0) {
      throw new IllegalArgumentException(x + " is not exact in binary16");
    }
    return (short) (sign | (exponent << 10) | (mantissa >>> 13));
  }

  private static void writeSafetensors(Path file, List<String> names, Map<String, float[]> values, Map<String, long[]> shapes,
      String dtype) throws IOException {
    int width = dtype.equals("F32") ? 4 : 2;
    ObjectNode header = JSON.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (String name : names) {
      ObjectNode entry = header.putObject(name);
      entry.put("dtype", dtype);
      ArrayNode shape = entry.putArray("shape");
      for (long dim : shapes.get(name)) {
        shape.add(dim);
      }
      long size = (long) values.get(name).length * width;
      entry.putArray("data_offsets").add(offset).add(offset + size);
      offset += size;
    }
    byte[] json = new ObjectMapper().writeValueAsBytes(header);
    try (OutputStream out = Files.newOutputStream(file)) {
      ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length);
      out.write(length.array());
      out.write(json);
      for (String name : names) {
        float[] v = values.get(name);
        ByteBuffer data = ByteBuffer.allocate(v.length * width).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
          switch (dtype) {
            case "F32" -> data.putFloat(x);
            case "BF16" -> data.putShort((short) (Float.floatToIntBits(x) >>> 16));
            case "F16" -> data.putShort(toHalfExact(x));
            default -> throw new IllegalArgumentException(dtype);
          }
        }
        out.write(data.array());
      }
    }
  }

  static String config(Spec s) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.putArray("architectures").add(s.architecture());
    n.put("model_type", s.architecture().startsWith("Qwen2") ? "qwen2" : s.architecture().startsWith("Mistral") ? "mistral" : "llama");
    n.put("hidden_size", s.hidden());
    n.put("intermediate_size", s.intermediate());
    n.put("num_hidden_layers", s.layers());
    n.put("num_attention_heads", s.heads());
    n.put("num_key_value_heads", s.kvHeads());
    n.put("vocab_size", s.vocab());
    n.put("max_position_embeddings", s.maxPositions());
    n.put("rope_theta", s.ropeTheta());
    n.put("rms_norm_eps", s.rmsEps());
    n.put("hidden_act", "silu");
    n.put("tie_word_embeddings", s.tied());
    n.put("initializer_range", 0.02);
    int size = s.tokenizerSize();
    n.put("bos_token_id", s.qwenSpecials() ? size - 3 : size - 2);
    n.put("eos_token_id", s.qwenSpecials() ? size - 3 : size - 1);
    if (s.architecture().startsWith("Llama")) {
      n.put("attention_bias", false);
    }
    if (s.architecture().startsWith("Qwen2")) {
      n.put("use_sliding_window", false);
      n.put("sliding_window", s.maxPositions());
    }
    n.put("torch_dtype", s.dtype().equals("F32") ? "float32" : s.dtype().equals("F16") ? "float16" : "bfloat16");
    return JSON.writeValueAsString(n);
  }

  /** GPT-2's byte → printable character map (bytes_to_unicode). */
  static char[] byteChars() {
    char[] chars = new char[256];
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      chars[b] = printable ? (char) b : (char) (256 + n++);
    }
    return chars;
  }

  /**
   * A byte-level BPE {@code tokenizer.json}: ids 0–255 are the bytes (GPT-2's printable mapping), then one id per
   * merge, then the special tokens.
   */
  public static String tokenizerJson(boolean qwenSpecials) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    char[] chars = byteChars();
    ObjectNode vocab = JSON.createObjectNode();
    for (int b = 0; b < 256; b++) {
      vocab.put(String.valueOf(chars[b]), b);
    }
    int id = 256;
    for (String merge : MERGES) {
      vocab.put(merge.replace(" ", ""), id++);
    }
    List<String> specials = qwenSpecials ? List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>") : List.of("<s>", "</s>");
    ArrayNode added = root.putArray("added_tokens");
    for (String special : specials) {
      ObjectNode t = added.addObject();
      t.put("id", id++);
      t.put("content", special);
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    root.putNull("normalizer");
    ObjectNode pre = root.putObject("pre_tokenizer");
    pre.put("type", "ByteLevel");
    pre.put("add_prefix_space", false);
    pre.put("trim_offsets", true);
    pre.put("use_regex", true);
    root.putNull("post_processor");
    ObjectNode decoder = root.putObject("decoder");
    decoder.put("type", "ByteLevel");
    decoder.put("add_prefix_space", true);
    decoder.put("trim_offsets", true);
    decoder.put("use_regex", true);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.set("vocab", vocab);
    ArrayNode merges = model.putArray("merges");
    MERGES.forEach(merges::add);
    return new String(JSON.writeValueAsBytes(root), StandardCharsets.UTF_8);
  }
}
