package dev.reft.policy.hf;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.PolicyRuntime;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.checkpoint.SafeTensors;
import dev.reft.policy.nn.LlamaDecoder;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads a Hugging Face model directory — {@code LlamaForCausalLM}, {@code Qwen2ForCausalLM} or {@code
 * MistralForCausalLM} — into the policy: {@code config.json}, {@code model.safetensors} or the shards of
 * {@code model.safetensors.index.json}, {@code tokenizer.json} with its special tokens from {@code
 * tokenizer_config.json} / {@code generation_config.json}.
 *
 * <ul>
 *   <li>Weights are streamed: one tensor is read, widened to F32 when stored as F16 / BF16, copied into its
 *       parameter and dropped, so only the model's own copy of the weights is ever whole in memory.
 *   <li>A tensor of the wrong shape is an error naming it and both shapes; a missing parameter is an error;
 *       a tensor the policy has no parameter for ({@code rotary_emb.inv_freq}, a tied model's duplicate
 *       {@code lm_head.weight}) is skipped with a note.
 *   <li>Special ids: each of BOS / EOS / PAD is taken from the first of {@code tokenizer_config.json}
 *       ({@code bos_token} etc., a string or {@code {"content": ...}}), {@code generation_config.json}
 *       ({@code bos_token_id} etc.; a list of EOS ids gives its first), {@code config.json}; a missing PAD
 *       becomes EOS; a missing BOS falls back to the tokenizer's names ({@code <s>}, {@code <|endoftext|>},
 *       ...), as the policy starts every prompt with BOS.
 *   <li>The value head does not exist in a pretrained model: {@code v_head.weight} starts N(0, σ²) with σ
 *       the config's {@code initializer_range}, drawn exactly as {@link PolicyModel#create} draws it for the
 *       seed, and {@code v_head.bias} at 0 — unless the directory has the {@code value_head.safetensors} that
 *       {@link HfExport} writes, whose values are then restored.
 *   <li>The window ({@link ModelConfig#maxSeqLen()}) defaults to the trained context capped at {@value
 *       #DEFAULT_MAX_SEQ_LEN} tokens (the causal mask is maxSeqLen² floats); {@code max_position_embeddings}
 *       itself is kept and written back on export.
 * </ul>
 */
public final class HfImport {

  /** Default window of an imported model when its trained context is longer. */
  public static final int DEFAULT_MAX_SEQ_LEN = 2048;
  /** The weights of a single-file model. */
  public static final String WEIGHTS = "model.safetensors";
  /** The index of a sharded model: {@code weight_map} tensor name → shard file. */
  public static final String WEIGHTS_INDEX = "model.safetensors.index.json";
  /** The value head written by {@link HfExport}. */
  public static final String VALUE_HEAD = "value_head.safetensors";
  /** Checkpoint metadata: the Hugging Face class of the source. */
  public static final String META_ARCHITECTURE = "hf.architecture";
  /** Checkpoint metadata: the source directory. */
  public static final String META_SOURCE = "hf.source";
  /** Checkpoint metadata: how the value head was initialised. */
  public static final String META_VALUE_HEAD = "hf.value_head";

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How to import.
   *
   * @param maxSeqLen the window, or 0 for the trained context capped at {@value #DEFAULT_MAX_SEQ_LEN}
   * @param seed the value head's initialisation seed
   * @param device where the model's parameters go
   */
  public record Options(int maxSeqLen, long seed, Device device) {
    /** @return window 0 (default), seed 1, the runtime's device ({@code reft.policy.device}) */
    public static Options defaults() {
      return new Options(0, 1, PolicyRuntime.defaultDevice());
    }

    /** @return a copy with another window */
    public Options withMaxSeqLen(int n) {
      return new Options(n, seed, device);
    }

    /** @return a copy with another seed */
    public Options withSeed(long s) {
      return new Options(maxSeqLen, s, device);
    }

    /** @return a copy on another device */
    public Options withDevice(Device d) {
      return new Options(maxSeqLen, seed, d);
    }
  }

  /**
   * An imported model and its tokenizer; close it to free both.
   *
   * @param model the policy with the pretrained weights
   * @param tokenizer the model's tokenizer with its special ids
   * @param metadata what a checkpoint of it records about the source ({@code hf.*} keys)
   */
  public record Imported(PolicyModel model, PolicyTokenizer tokenizer, Map<String, String> metadata) implements AutoCloseable {
    @Override
    public void close() {
      model.close();
      tokenizer.close();
    }
  }

  private HfImport() {}

  /**
   * Whether a directory looks like a Hugging Face model (a {@code config.json} and no checkpoint manifest).
   *
   * @param dir any directory
   * @return whether to read it with {@link #load}
   */
  public static boolean isHfDirectory(Path dir) {
    return Files.isRegularFile(dir.resolve("config.json")) && !Files.exists(dir.resolve(Checkpoint.MANIFEST));
  }

  /**
   * Imports a directory as a project checkpoint that every service can load.
   *
   * @param dir the Hugging Face directory
   * @param out the checkpoint directory to create (must not exist)
   * @param options window, seed, device
   * @param notes receives one line per skipped tensor and per special-id decision
   * @return the written checkpoint
   * @throws IOException when a file cannot be read or written
   * @throws IllegalArgumentException when the directory is not a supported, consistent model
   */
  public static Checkpoint importTo(Path dir, Path out, Options options, Consumer<String> notes) throws IOException {
    try (Imported imported = load(dir, options, notes)) {
      Checkpoint.Writer writer = Checkpoint.writer(imported.model(), imported.tokenizer());
      imported.metadata().forEach(writer::metadata);
      return writer.write(out);
    }
  }

  /**
   * Loads a directory into memory.
   *
   * @param dir the Hugging Face directory
   * @param options window, seed, device
   * @param notes receives one line per skipped tensor and per special-id decision
   * @return the model and tokenizer (close them)
   * @throws IOException when a file cannot be read
   * @throws IllegalArgumentException when the directory is not a supported, consistent model: an unsupported
   *     architecture (naming {@code architectures}), a missing shard (naming the file), a tensor of the wrong
   *     shape (naming it and both shapes), a missing tensor
   */
  public static Imported load(Path dir, Options options, Consumer<String> notes) throws IOException {
    Path root = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("no such model directory: " + root);
    }
    Path configFile = root.resolve("config.json");
    if (!Files.isRegularFile(configFile)) {
      throw new IllegalArgumentException(root + " has no config.json (not a Hugging Face model directory)");
    }
    String configText = Files.readString(configFile, StandardCharsets.UTF_8);
    ModelConfig config = window(ModelConfig.fromJson(configText), options.maxSeqLen(), notes);
    List<Path> shards = weightFiles(root);

    PolicyTokenizer tokenizer = tokenizer(root, JSON.readTree(configText), notes);
    try {
      if (tokenizer.vocabSize() > config.vocabSize()) {
        throw new IllegalArgumentException("tokenizer.json has " + tokenizer.vocabSize() + " token ids, more than config.json's vocab_size "
            + config.vocabSize());
      }
      String valueHead;
      PolicyModel model;
      try (PolicyModel.Loader loader = PolicyModel.loader(config, options.device(), DataType.FLOAT32)) {
        List<String> skipped = new ArrayList<>();
        for (Path shard : shards) {
          stream(shard, loader, skipped, config);
        }
        if (!skipped.isEmpty()) {
          notes.accept("skipped " + skipped.size() + " tensor(s) the policy has no parameter for: "
              + String.join(", ", skipped.subList(0, Math.min(5, skipped.size()))) + (skipped.size() > 5 ? ", ..." : ""));
        }
        Path valueFile = root.resolve(VALUE_HEAD);
        if (Files.isRegularFile(valueFile)) {
          stream(valueFile, loader, skipped, config);
          valueHead = "restored from " + VALUE_HEAD;
        } else {
          loader.initialise("v_head.weight", options.seed());
          loader.initialise(LlamaDecoder.VALUE_HEAD_BIAS, options.seed());
          valueHead = String.format(Locale.ROOT, "fresh: v_head.weight ~ N(0, %s^2) (seed %d), v_head.bias = 0", config.initStd(), options.seed());
        }
        notes.accept("value head " + valueHead);
        List<String> missing = loader.missing();
        if (!missing.isEmpty()) {
          throw new IllegalArgumentException(root + ": missing weight '" + missing.get(0) + "'"
              + (missing.size() > 1 ? " (and " + (missing.size() - 1) + " more)" : ""));
        }
        model = loader.finish();
      }
      Map<String, String> metadata = Map.of(
          META_ARCHITECTURE, config.architecture().hfClass(),
          META_SOURCE, root.toString(),
          META_VALUE_HEAD, valueHead);
      return new Imported(model, tokenizer, metadata);
    } catch (IOException | RuntimeException e) {
      tokenizer.close();
      throw e;
    }
  }

  private static ModelConfig window(ModelConfig config, int requested, Consumer<String> notes) {
    if (requested < 0) {
      throw new IllegalArgumentException("the window (max-seq-len) must be positive: " + requested);
    }
    if (requested > config.maxSeqLen()) {
      throw new IllegalArgumentException("max-seq-len " + requested + " exceeds the model's context of " + config.maxSeqLen()
          + " positions (max_position_embeddings, or Mistral's sliding_window)");
    }
    int window = requested > 0 ? requested : Math.min(config.maxSeqLen(), DEFAULT_MAX_SEQ_LEN);
    if (window < config.maxPositionEmbeddings()) {
      notes.accept("window " + window + " tokens (the model was trained for " + config.maxPositionEmbeddings() + ")");
    }
    return config.withMaxSeqLen(window);
  }

  /** The safetensors files to read: the single file, or every shard named by the index. */
  private static List<Path> weightFiles(Path root) throws IOException {
    Path index = root.resolve(WEIGHTS_INDEX);
    if (Files.isRegularFile(index)) {
      JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
      if (!map.isObject() || map.isEmpty()) {
        throw new IllegalArgumentException(index + " has no weight_map");
      }
      Set<String> files = new LinkedHashSet<>();
      for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
        files.add(it.next().asText());
      }
      List<Path> shards = new ArrayList<>();
      for (String name : files) {
        Path shard = root.resolve(name).normalize();
        if (!shard.startsWith(root) || !Files.isRegularFile(shard)) {
          throw new IllegalArgumentException("shard '" + name + "' listed in " + WEIGHTS_INDEX + " is missing from " + root);
        }
        shards.add(shard);
      }
      return shards;
    }
    Path single = root.resolve(WEIGHTS);
    if (Files.isRegularFile(single)) {
      return List.of(single);
    }
    throw new IllegalArgumentException(root + " has neither " + WEIGHTS + " nor " + WEIGHTS_INDEX
        + (Files.exists(root.resolve("pytorch_model.bin")) ? " (pytorch_model.bin is not supported: convert it to safetensors)" : ""));
  }

  /** Streams one file's tensors into the loader. */
  private static void stream(Path file, PolicyModel.Loader loader, List<String> skipped, ModelConfig config) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        NDManager scratch = PolicyRuntime.engine().newBaseManager(Device.cpu())) {
      SafeTensors.stream(channel, channel.size(), null, (entry, data) -> {
        if (!loader.expects(entry.name())) {
          skipped.add(entry.name() + (entry.name().equals("lm_head.weight") && config.tieEmbeddings() ? " (tied to the embedding)" : ""));
          return;
        }
        if (!entry.shape().equals(loader.shapeOf(entry.name()))) {
          throw new IllegalArgumentException("tensor '" + entry.name() + "' in " + file.getFileName() + " has shape " + entry.shape()
              + ", config.json implies " + loader.shapeOf(entry.name()));
        }
        try (NDManager one = scratch.newSubManager()) {
          loader.put(entry.name(), data.read(one));
        }
      });
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("safetensors:")) {
        throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
      }
      throw e;
    }
  }

  /** The tokenizer with its special ids from the Hugging Face files (see the class comment). */
  private static PolicyTokenizer tokenizer(Path root, JsonNode config, Consumer<String> notes) throws IOException {
    Path file = root.resolve("tokenizer.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(root + " has no tokenizer.json (only fast-tokenizer files are supported)");
    }
    String json = Files.readString(file, StandardCharsets.UTF_8);
    JsonNode tokenizerConfig = readIfPresent(root.resolve("tokenizer_config.json"));
    JsonNode generation = readIfPresent(root.resolve("generation_config.json"));
    // Resolve token strings against the vocabulary before choosing ids.
    try (PolicyTokenizer byName = PolicyTokenizer.fromJson(json, 0, 0, 0)) {
      Integer bos = special("bos", byName, tokenizerConfig, generation, config, notes);
      Integer eos = special("eos", byName, tokenizerConfig, generation, config, notes);
      Integer pad = special("pad", byName, tokenizerConfig, generation, config, notes);
      if (eos == null) {
        OptionalInt found = firstOf(byName, PolicyTokenizer.EOS, "</s>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>");
        if (found.isEmpty()) {
          throw new IllegalArgumentException(root + ": no EOS token in tokenizer_config.json, generation_config.json or config.json");
        }
        eos = found.getAsInt();
        notes.accept("eos " + eos + " '" + byName.token(eos) + "' found by name");
      }
      if (bos == null) {
        OptionalInt found = firstOf(byName, PolicyTokenizer.BOS, "<s>", "<|begin_of_text|>", "<|endoftext|>");
        bos = found.isPresent() ? found.getAsInt() : eos;
        notes.accept("bos " + bos + " '" + byName.token(bos) + "' " + (found.isPresent() ? "found by name" : "= eos (the model names no BOS)"));
      }
      if (pad == null) {
        pad = eos;
        notes.accept("pad = eos " + eos + " (the model names no PAD)");
      }
      return PolicyTokenizer.fromJson(json, bos, eos, pad);
    }
  }

  private static OptionalInt firstOf(PolicyTokenizer tokenizer, String... names) {
    for (String name : names) {
      OptionalInt id = tokenizer.id(name);
      if (id.isPresent()) {
        return id;
      }
    }
    return OptionalInt.empty();
  }

  /** One special id from the first file that names it, or null. */
  private static Integer special(String kind, PolicyTokenizer tokenizer, JsonNode tokenizerConfig, JsonNode generation,
      JsonNode config, Consumer<String> notes) {
    JsonNode token = tokenizerConfig.path(kind + "_token");
    String text = token.isTextual() ? token.asText() : token.path("content").isTextual() ? token.path("content").asText() : null;
    if (text != null) {
      OptionalInt id = tokenizer.id(text);
      if (id.isEmpty()) {
        throw new IllegalArgumentException("tokenizer_config.json: " + kind + "_token '" + text + "' is not a token of tokenizer.json");
      }
      notes.accept(kind + " " + id.getAsInt() + " '" + text + "' from tokenizer_config.json");
      return id.getAsInt();
    }
    for (Map.Entry<String, JsonNode> source : List.of(Map.entry("generation_config.json", generation), Map.entry("config.json", config))) {
      JsonNode v = source.getValue().path(kind + "_token_id");
      if (v.isArray() && v.size() > 0) {
        v = v.get(0);
      }
      if (v.canConvertToInt()) {
        notes.accept(kind + " " + v.intValue() + " '" + tokenizer.token(v.intValue()) + "' from " + source.getKey());
        return v.intValue();
      }
    }
    return null;
  }

  private static JsonNode readIfPresent(Path file) throws IOException {
    return Files.isRegularFile(file) ? JSON.readTree(file.toFile()) : JSON.createObjectNode();
  }
}
