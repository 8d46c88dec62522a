package dev.reft.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

  static PolicyTokenizer tokenizer;
  static PolicyModel model;

  @BeforeAll
  static void setUp() {
    tokenizer = TokenizerBuilder.builder().build(List.of("Question:\n12 + 7 = ?\nAnswer reasoning:\n", "def solution():\n    x = 3\n    return x", "apples and pears"));
    model = PolicyModel.create(new ModelConfig(tokenizer.vocabSize(), 32, 2, 4, 2, 64, 64, false, 0.3f, 10_000f, 1e-5f), 17);
  }

  @AfterAll
  static void tearDown() {
    model.close();
    tokenizer.close();
  }

  @Test
  void roundTripRestoresWeightsTokenizerConfigMetadataAndExtraFiles(@TempDir Path tmp) throws Exception {
    Path source = Files.writeString(tmp.resolve("position.txt"), "epoch 3, item 118");
    Checkpoint written = Checkpoint.writer(model, tokenizer)
        .metadata("step", "12")
        .metadata("kafka.offsets", "reft.trajectories.rewarded-0:4711")
        .file("optimizer.safetensors", new byte[] {1, 2, 3})
        .file("state/rng.json", "{\"state\": 42}".getBytes(StandardCharsets.UTF_8))
        .file("data/position.txt", source)
        .write(tmp.resolve("ckpt-12"));

    Checkpoint opened = Checkpoint.open(tmp.resolve("ckpt-12"), written.identity());
    assertThat(opened.identity()).isEqualTo(written.identity()).isEqualTo(sha256(tmp.resolve("ckpt-12/manifest.json")));
    assertThat(opened.files()).containsExactlyInAnyOrder(
        "config.json", "tokenizer.json", "model.safetensors", "optimizer.safetensors", "state/rng.json", "data/position.txt");
    assertThat(opened.metadata()).containsEntry("step", "12").containsEntry("kafka.offsets", "reft.trajectories.rewarded-0:4711");
    assertThat(opened.read("optimizer.safetensors")).containsExactly(1, 2, 3);
    assertThat(new String(opened.read("data/position.txt"), StandardCharsets.UTF_8)).isEqualTo("epoch 3, item 118");
    assertThat(opened.config()).isEqualTo(model.config());
    try (PolicyTokenizer t = opened.tokenizer(); PolicyModel loaded = opened.loadModel(Device.cpu(), DataType.FLOAT32)) {
      assertThat(t.json()).isEqualTo(tokenizer.json());
      model.namedParameters().forEach((name, p) ->
          assertThat(loaded.namedParameters().get(name).getArray().toFloatArray()).as(name).containsExactly(p.getArray().toFloatArray()));
      assertThat(Probe.run(loaded, t)).isEqualTo(Probe.run(model, tokenizer));
    }
    // The same content gives the same identity.
    assertThat(Checkpoint.writer(model, tokenizer).write(tmp.resolve("a")).identity())
        .isEqualTo(Checkpoint.writer(model, tokenizer).write(tmp.resolve("b")).identity())
        .isNotEqualTo(written.identity());
  }

  @Test
  void weightsAreStandardSafetensorsUnderLlamaNames(@TempDir Path tmp) throws IOException {
    Checkpoint.writer(model, tokenizer).write(tmp.resolve("c"));
    byte[] bytes = Files.readAllBytes(tmp.resolve("c/model.safetensors"));
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(headerLength % 8).isZero();
    JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
    JsonNode q = header.get("model.layers.0.self_attn.q_proj.weight");
    assertThat(q.get("dtype").asText()).isEqualTo("F32");
    assertThat(q.get("shape").toString()).isEqualTo("[32,32]");
    assertThat(header.get("model.layers.1.self_attn.k_proj.weight").get("shape").toString()).isEqualTo("[16,32]");
    assertThat(header.has("model.embed_tokens.weight") && header.has("lm_head.weight") && header.has("model.norm.weight") && header.has("v_head.weight")).isTrue();
    assertThat(header.get("__metadata__").get("format").asText()).isEqualTo("pt");
    int begin = 8 + (int) headerLength + q.get("data_offsets").get(0).asInt();
    float[] stored = new float[32 * 32];
    ByteBuffer.wrap(bytes, begin, stored.length * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(stored);
    assertThat(stored).containsExactly(model.namedParameters().get("model.layers.0.self_attn.q_proj.weight").getArray().toFloatArray());
    JsonNode config = new ObjectMapper().readTree(tmp.resolve("c/config.json").toFile());
    assertThat(config.get("model_type").asText()).isEqualTo("llama");
    assertThat(config.get("num_key_value_heads").asInt()).isEqualTo(2);
  }

  @Test
  void aTamperedCheckpointIsRefusedWithAClearError(@TempDir Path tmp) throws IOException {
    Checkpoint good = Checkpoint.writer(model, tokenizer).file("optimizer.safetensors", new byte[] {9}).write(tmp.resolve("good"));

    Path flipped = copy(tmp.resolve("good"), tmp.resolve("flipped"));
    byte[] weights = Files.readAllBytes(flipped.resolve("model.safetensors"));
    weights[weights.length - 3] ^= 1;
    Files.write(flipped.resolve("model.safetensors"), weights);
    assertThatThrownBy(() -> Checkpoint.open(flipped))
        .isInstanceOf(CheckpointIntegrityException.class)
        .hasMessageContaining("model.safetensors")
        .hasMessageContaining("modified or corrupted");

    Path extra = copy(tmp.resolve("good"), tmp.resolve("extra"));
    Files.writeString(extra.resolve("notes.txt"), "hello");
    assertThatThrownBy(() -> Checkpoint.open(extra)).isInstanceOf(CheckpointIntegrityException.class).hasMessageContaining("notes.txt is not listed");

    Path missing = copy(tmp.resolve("good"), tmp.resolve("missing"));
    Files.delete(missing.resolve("optimizer.safetensors"));
    assertThatThrownBy(() -> Checkpoint.open(missing)).isInstanceOf(CheckpointIntegrityException.class).hasMessageContaining("optimizer.safetensors is listed in the manifest but missing");

    Path relabelled = copy(tmp.resolve("good"), tmp.resolve("relabelled"));
    String manifest = Files.readString(relabelled.resolve("manifest.json"));
    Files.writeString(relabelled.resolve("manifest.json"), manifest.replace("\"metadata\" : { }", "\"metadata\" : { \"step\" : \"999\" }"));
    assertThat(Checkpoint.open(relabelled).metadata()).containsEntry("step", "999"); // consistent on its own ...
    assertThatThrownBy(() -> Checkpoint.open(relabelled, good.identity())) // ... but not the checkpoint that was announced
        .isInstanceOf(CheckpointIntegrityException.class)
        .hasMessageContaining("expected " + good.identity());

    // A file swapped after open() is caught when its bytes are loaded.
    Path swapped = copy(tmp.resolve("good"), tmp.resolve("swapped"));
    Checkpoint opened = Checkpoint.open(swapped);
    Files.write(swapped.resolve("model.safetensors"), weights);
    assertThatThrownBy(opened::loadModel).isInstanceOf(CheckpointIntegrityException.class).hasMessageContaining("model.safetensors");
  }

  @Test
  void writesAreAtomicAndCheckpointsImmutable(@TempDir Path tmp) throws IOException {
    Checkpoint.writer(model, tokenizer).write(tmp.resolve("one"));
    assertThatThrownBy(() -> Checkpoint.writer(model, tokenizer).write(tmp.resolve("one"))).isInstanceOf(FileAlreadyExistsException.class);
    assertThatThrownBy(() -> Checkpoint.writer(model, tokenizer).file("x", tmp.resolve("does-not-exist")).write(tmp.resolve("two")))
        .isInstanceOf(NoSuchFileException.class);
    try (Stream<Path> children = Files.list(tmp)) {
      assertThat(children.map(p -> p.getFileName().toString())).containsExactly("one"); // no temporary or partial directory left
    }
    assertThatThrownBy(() -> Checkpoint.writer(model, tokenizer).file("../escape", new byte[0])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Checkpoint.writer(model, tokenizer).file("/abs", new byte[0])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Checkpoint.writer(model, tokenizer).file("config.json", new byte[0])).hasMessageContaining("standard checkpoint file");
  }

  @Test
  void aCheckpointWrittenHereLoadsInAnotherJvmWithIdenticalOutputs(@TempDir Path tmp) throws Exception {
    Checkpoint written = Checkpoint.writer(model, tokenizer).write(tmp.resolve("shared"));
    Path out = tmp.resolve("child.json");
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(
        java, "-cp", System.getProperty("java.class.path"), "-Xmx1g", "-Dai.djl.offline=true",
        "-Dai.djl.pytorch.num_threads=" + System.getProperty("ai.djl.pytorch.num_threads", "2"),
        "-Dai.djl.pytorch.num_interop_threads=" + System.getProperty("ai.djl.pytorch.num_interop_threads", "1"),
        CheckpointChildMain.class.getName(), written.directory().toString(), written.identity(), out.toString());
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    pb.redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
    Process child = pb.start();
    assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("child JVM finished").isTrue();
    assertThat(child.exitValue()).as(Files.readString(tmp.resolve("child.log"))).isZero();
    String here = Probe.run(model, tokenizer);
    assertThat(Files.readString(out)).isEqualTo(here);
    assertThat(new ObjectMapper().readTree(here).get("rows").get(0).get("tokens").size()).isPositive();
  }

  static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return to;
  }

  static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
