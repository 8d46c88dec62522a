package dev.reft.policy.hf;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reft.policy.Architecture;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.checkpoint.SafeTensors;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Import of Hugging Face directories (sharded, half precision, special ids, value head) and export back. */
class HfImportTest {

  @TempDir Path tmp;

  static final HfImport.Options CPU = HfImport.Options.defaults().withDevice(Device.cpu()).withSeed(5);

  @Test
  void importsAShardedQwenModelWithEveryWeightItsSpecialIdsAndAFreshValueHead() throws Exception {
    HfFixtures.Spec spec = HfFixtures.Spec.qwen2();
    HfFixtures.Written hf = HfFixtures.write(tmp.resolve("qwen"), spec);
    List<String> notes = new ArrayList<>();
    try (HfImport.Imported imported = HfImport.load(hf.dir(), CPU, notes::add)) {
      PolicyModel model = imported.model();
      assertThat(model.config().architecture()).isEqualTo(Architecture.QWEN2);
      assertThat(model.config().tieEmbeddings()).isTrue();
      assertThat(model.config().vocabSize()).isEqualTo(spec.vocab());
      assertThat(model.config().ropeTheta()).isEqualTo(1e6f);
      assertThat(model.config().normEps()).isEqualTo(1e-6f);
      assertSameWeights(model, hf.weights());
      int size = spec.vocab() - spec.spareVocab();
      PolicyTokenizer tok = imported.tokenizer();
      assertThat(tok.vocabSize()).isEqualTo(size);
      assertThat(tok.eos()).as("tokenizer_config's eos_token <|im_end|>").isEqualTo(size - 1);
      assertThat(tok.bos()).as("generation_config's bos_token_id").isEqualTo(size - 3);
      assertThat(tok.pad()).as("generation_config's pad_token_id").isEqualTo(size - 3);
      assertThat(tok.decode(tok.encode("the cat sat"))).isEqualTo("the cat sat");
      assertThat(tok.pieces(" the cat")).containsExactly("Ġthe", "Ġcat");
      assertThat(notes).anyMatch(n -> n.contains("rotary_emb.inv_freq"));
      try (PolicyModel fresh = PolicyModel.create(model.config(), 5)) {
        assertThat(model.namedParameters().get("v_head.weight").getArray().toFloatArray())
            .as("the value head is drawn as create() draws it for the seed")
            .containsExactly(fresh.namedParameters().get("v_head.weight").getArray().toFloatArray());
      }
      assertThat(model.namedParameters().get("v_head.bias").getArray().toFloatArray()).containsExactly(0f);
      assertThat(imported.metadata()).containsEntry(HfImport.META_ARCHITECTURE, "Qwen2ForCausalLM");
    }
  }

  @Test
  void halfPrecisionWeightsArriveAsTheSameFloat32Values() throws Exception {
    for (String dtype : List.of("BF16", "F16")) {
      HfFixtures.Spec spec = HfFixtures.Spec.llama().withDtype(dtype);
      HfFixtures.Written hf = HfFixtures.write(tmp.resolve("llama-" + dtype), spec);
      try (HfImport.Imported imported = HfImport.load(hf.dir(), CPU, n -> { })) {
        assertThat(imported.model().config().tieEmbeddings()).isFalse();
        assertSameWeights(imported.model(), hf.weights());
        int size = spec.vocab();
        assertThat(imported.tokenizer().bos()).as("<s> from tokenizer_config").isEqualTo(size - 2);
        assertThat(imported.tokenizer().eos()).as("{content: </s>} from tokenizer_config").isEqualTo(size - 1);
        assertThat(imported.tokenizer().pad()).as("no pad: eos").isEqualTo(size - 1);
      }
    }
  }

  @Test
  void exportWritesAHuggingFaceDirectoryThatImportsBackToTheSameCheckpoint() throws Exception {
    HfFixtures.Written hf = HfFixtures.write(tmp.resolve("qwen"), HfFixtures.Spec.qwen2());
    Checkpoint imported = HfImport.importTo(hf.dir(), tmp.resolve("ckpt"), CPU, n -> { });
    assertThat(imported.metadata()).containsEntry(HfImport.META_ARCHITECTURE, "Qwen2ForCausalLM")
        .containsKey(HfImport.META_VALUE_HEAD);
    Path exported = tmp.resolve("export");
    HfExport.export(Checkpoint.open(imported.directory()), exported);
    assertThat(exported.resolve("model.safetensors")).exists();
    assertThat(exported.resolve("value_head.safetensors")).exists();
    assertThat(exported.resolve("tokenizer.json")).exists();
    ObjectMapper json = new ObjectMapper();
    JsonNode config = json.readTree(exported.resolve("config.json").toFile());
    assertThat(config.path("architectures").get(0).asText()).isEqualTo("Qwen2ForCausalLM");
    assertThat(config.path("model_type").asText()).isEqualTo("qwen2");
    assertThat(config.path("max_position_embeddings").asInt()).isEqualTo(128);
    assertThat(config.path("tie_word_embeddings").asBoolean()).isTrue();
    JsonNode tokenizerConfig = json.readTree(exported.resolve("tokenizer_config.json").toFile());
    assertThat(tokenizerConfig.path("eos_token").asText()).isEqualTo("<|im_end|>");
    assertThat(tokenizerConfig.path("bos_token").asText()).isEqualTo("<|endoftext|>");
    JsonNode generation = json.readTree(exported.resolve("generation_config.json").toFile());
    assertThat(generation.path("eos_token_id").asInt()).isEqualTo(imported.tokenizer().eos());
    List<String> names = SafeTensors.header(exported.resolve("model.safetensors")).tensors().stream().map(SafeTensors.Entry::name).toList();
    assertThat(names).contains("model.layers.1.self_attn.k_proj.bias").noneMatch(n -> n.startsWith("v_head")).doesNotContain("lm_head.weight");
    assertThat(SafeTensors.header(exported.resolve("model.safetensors")).metadata()).containsEntry("format", "pt");

    List<String> notes = new ArrayList<>();
    Checkpoint again = HfImport.importTo(exported, tmp.resolve("again"), CPU.withSeed(99), notes::add);
    assertThat(notes).anyMatch(n -> n.contains("restored from value_head.safetensors"));
    assertThat(again.read(Checkpoint.WEIGHTS)).as("identical weights, value head included").isEqualTo(imported.read(Checkpoint.WEIGHTS));
    assertThat(again.config()).isEqualTo(imported.config());
    try (PolicyTokenizer a = again.tokenizer(); PolicyTokenizer b = imported.tokenizer()) {
      assertThat(List.of(a.bos(), a.eos(), a.pad())).isEqualTo(List.of(b.bos(), b.eos(), b.pad()));
    }
  }

  @Test
  void aCheckpointOfAnImportLoadsWithTheImportedSpecialIds() throws Exception {
    HfFixtures.Spec spec = HfFixtures.Spec.qwen2();
    HfFixtures.Written hf = HfFixtures.write(tmp.resolve("qwen"), spec);
    Checkpoint ckpt = HfImport.importTo(hf.dir(), tmp.resolve("ckpt"), CPU, n -> { });
    Checkpoint opened = Checkpoint.open(ckpt.directory(), ckpt.identity());
    try (PolicyTokenizer tok = opened.tokenizer(); PolicyModel model = opened.loadModel(Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
      int size = spec.vocab() - spec.spareVocab();
      assertThat(tok.eos()).as("<|im_end|>, not <|endoftext|> that a lookup by name would pick").isEqualTo(size - 1);
      assertSameWeights(model, hf.weights());
    }
  }

  static void assertSameWeights(PolicyModel model, Map<String, float[]> expected) {
    Map<String, Parameter> params = model.namedParameters();
    for (Map.Entry<String, float[]> e : expected.entrySet()) {
      assertThat(params).containsKey(e.getKey());
      assertThat(params.get(e.getKey()).getArray().toFloatArray()).as(e.getKey()).containsExactly(e.getValue());
    }
    assertThat(params.keySet()).as("every parameter but the value head comes from the file")
        .containsExactlyInAnyOrderElementsOf(concat(expected.keySet(), List.of("v_head.weight", "v_head.bias")));
  }

  static List<String> concat(java.util.Collection<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

}
