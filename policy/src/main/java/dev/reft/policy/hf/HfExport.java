package dev.reft.policy.hf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.checkpoint.SafeTensors;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a policy as a Hugging Face model directory that {@code AutoModelForCausalLM} (and Jlama) load as
 * the same architecture:
 *
 * <pre>
 * config.json               the checkpoint's ModelConfig as LlamaConfig / Qwen2Config / MistralConfig keys
 *                           (an imported model keeps its architecture and max_position_embeddings)
 * model.safetensors         F32, Hugging Face names, metadata {"format": "pt"}; no value head
 * value_head.safetensors    v_head.weight (1, hidden), v_head.bias (1): read back by {@link HfImport}
 * tokenizer.json            as trained / imported
 * tokenizer_config.json     PreTrainedTokenizerFast with bos_token / eos_token / pad_token
 * generation_config.json    bos_token_id / eos_token_id / pad_token_id
 * </pre>
 *
 * <p>Written to a hidden temporary sibling and renamed into place; an existing directory is refused.
 */
public final class HfExport {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private HfExport() {}

  /**
   * Exports a verified checkpoint.
   *
   * @param checkpoint an opened checkpoint
   * @param out the directory to create
   * @throws IOException when reading or writing fails
   */
  public static void export(Checkpoint checkpoint, Path out) throws IOException {
    try (PolicyTokenizer tokenizer = checkpoint.tokenizer(); PolicyModel model = checkpoint.loadModel(Device.cpu(), DataType.FLOAT32)) {
      export(model, tokenizer, out);
    }
  }

  /**
   * Exports a model and its tokenizer.
   *
   * @param model the policy (F32 or F64; written as stored)
   * @param tokenizer its tokenizer
   * @param out the directory to create
   * @throws IOException when writing fails
   */
  public static void export(PolicyModel model, PolicyTokenizer tokenizer, Path out) throws IOException {
    Path dir = out.toAbsolutePath().normalize();
    if (Files.exists(dir)) {
      throw new FileAlreadyExistsException(dir.toString(), null, "choose a new directory for the export");
    }
    Files.createDirectories(dir.getParent());
    Path tmp = Files.createTempDirectory(dir.getParent(), "." + dir.getFileName() + ".tmp-");
    try {
      ModelConfig config = model.config();
      Map<String, NDArray> weights = new LinkedHashMap<>();
      Map<String, NDArray> valueHead = new LinkedHashMap<>();
      model.namedParameters().forEach((name, p) -> (name.startsWith("v_head.") ? valueHead : weights).put(name, p.getArray()));
      Files.writeString(tmp.resolve("config.json"), config.toJson(tokenizer.bos(), tokenizer.eos(), tokenizer.pad()), StandardCharsets.UTF_8);
      writeTensors(tmp.resolve(HfImport.WEIGHTS), weights);
      writeTensors(tmp.resolve(HfImport.VALUE_HEAD), valueHead);
      tokenizer.save(tmp.resolve("tokenizer.json"));

      ObjectNode tokenizerConfig = JSON.createObjectNode();
      tokenizerConfig.put("tokenizer_class", "PreTrainedTokenizerFast");
      tokenizerConfig.put("bos_token", tokenizer.token(tokenizer.bos()));
      tokenizerConfig.put("eos_token", tokenizer.token(tokenizer.eos()));
      tokenizerConfig.put("pad_token", tokenizer.token(tokenizer.pad()));
      if (tokenizer.unk() >= 0) {
        tokenizerConfig.put("unk_token", tokenizer.token(tokenizer.unk()));
      }
      tokenizerConfig.put("model_max_length", config.maxPositionEmbeddings());
      tokenizerConfig.put("clean_up_tokenization_spaces", false);
      JSON.writeValue(tmp.resolve("tokenizer_config.json").toFile(), tokenizerConfig);

      ObjectNode generation = JSON.createObjectNode();
      generation.put("bos_token_id", tokenizer.bos());
      generation.put("eos_token_id", tokenizer.eos());
      generation.put("pad_token_id", tokenizer.pad());
      JSON.writeValue(tmp.resolve("generation_config.json").toFile(), generation);

      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      try (Stream<Path> walk = Files.walk(tmp)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
      throw e;
    }
  }

  private static void writeTensors(Path file, Map<String, NDArray> tensors) throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      SafeTensors.write(tensors, Map.of("format", "pt"), out); // transformers requires format "pt"
    }
  }
}
