package dev.reft.cli.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.cli.ReftCommandAccess;
import dev.reft.cli.ReftCommandAccess.Run;
import dev.reft.policy.hf.HfFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code reft model import|export} and {@code reft generate}, and the one-line errors for bad directories. */
class HfModelCommandsTest {

  @TempDir Path tmp;

  @Test
  void importExportAndGenerateFromTheCheckpointAndFromTheHuggingFaceDirectory() throws Exception {
    Path hf = HfFixtures.write(tmp.resolve("hf"), HfFixtures.Spec.qwen2()).dir();
    Run imported = ReftCommandAccess.execute("model", "import", hf.toString(), "--out", tmp.resolve("ckpt").toString(), "--max-seq-len", "96");
    assertThat(imported.exit()).as(imported.err()).isZero();
    assertThat(imported.out()).contains("imported Qwen2ForCausalLM").contains("window 96").contains("rotary_emb.inv_freq")
        .contains("eos 270 '<|im_end|>' from tokenizer_config.json").contains("identity");

    Run exported = ReftCommandAccess.execute("model", "export", tmp.resolve("ckpt").toString(), "--out", tmp.resolve("export").toString());
    assertThat(exported.exit()).as(exported.err()).isZero();
    assertThat(tmp.resolve("export/config.json")).content().contains("Qwen2ForCausalLM").contains("\"reft_max_seq_len\" : 96");

    String fromCheckpoint = generate(tmp.resolve("ckpt"));
    String fromExport = generate(tmp.resolve("export"));
    String fromSource = generate(hf);
    assertThat(fromCheckpoint).isNotBlank().isEqualTo(fromExport).isEqualTo(fromSource);

    Run sampled = ReftCommandAccess.execute("generate", "--model", tmp.resolve("ckpt").toString(), "--prompt", "the cat",
        "--temperature", "0.8", "--seed", "3", "--max-new-tokens", "10", "--device", "cpu");
    assertThat(sampled.exit()).as(sampled.err()).isZero();
    assertThat(ReftCommandAccess.execute("generate", "--model", tmp.resolve("ckpt").toString(), "--prompt", "the cat",
        "--temperature", "0.8", "--seed", "3", "--max-new-tokens", "10").out()).as("seeded").isEqualTo(sampled.out());
  }

  private static String generate(Path model) {
    Run run = ReftCommandAccess.execute("generate", "--model", model.toString(), "--prompt", "the cat sat", "--greedy", "--max-new-tokens", "12");
    assertThat(run.exit()).as(run.err()).isZero();
    return run.out();
  }

  @Test
  void anUnsupportedArchitectureIsNamedWithTheSupportedOnes() throws Exception {
    Path hf = HfFixtures.write(tmp.resolve("gpt2"), HfFixtures.Spec.llama().withArchitecture("GPT2LMHeadModel")).dir();
    Run run = ReftCommandAccess.execute("model", "import", hf.toString(), "--out", tmp.resolve("ckpt").toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err().lines()).hasSize(1);
    assertThat(run.err()).startsWith("reft model import: ").contains("architectures").contains("GPT2LMHeadModel")
        .contains("LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM");
    assertThat(tmp.resolve("ckpt")).doesNotExist();
  }

  @Test
  void aMissingShardIsNamed() throws Exception {
    Path hf = HfFixtures.write(tmp.resolve("qwen"), HfFixtures.Spec.qwen2()).dir();
    Files.delete(hf.resolve("model-00002-of-00002.safetensors"));
    Run run = ReftCommandAccess.execute("model", "import", hf.toString(), "--out", tmp.resolve("ckpt").toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err().lines()).hasSize(1);
    assertThat(run.err()).startsWith("reft model import: ").contains("model-00002-of-00002.safetensors").contains("missing");
  }

  @Test
  void aWrongShapeNamesTheTensorAndBothShapes() throws Exception {
    Path hf = HfFixtures.write(tmp.resolve("llama"), HfFixtures.Spec.llama()).dir();
    Path config = hf.resolve("config.json");
    Files.writeString(config, Files.readString(config).replace("\"intermediate_size\" : 128", "\"intermediate_size\" : 120"));
    Run run = ReftCommandAccess.execute("model", "import", hf.toString(), "--out", tmp.resolve("ckpt").toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err().lines()).hasSize(1);
    assertThat(run.err()).startsWith("reft model import: ").contains("model.layers.0.mlp.gate_proj.weight").contains("(128, 64)")
        .contains("(120, 64)");
  }

  @Test
  void generateRefusesADirectoryThatIsNeitherKind() {
    Run run = ReftCommandAccess.execute("generate", "--model", tmp.toString(), "--prompt", "x");
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("neither a checkpoint").contains("Hugging Face");
    assertThat(ReftCommandAccess.execute("generate", "--model", tmp.toString(), "--prompt", "x", "--temperature", "0").exit()).isEqualTo(2);
  }
}
