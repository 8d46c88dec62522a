package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reft.learner.train.SftTrainer;
import dev.reft.policy.Architecture;
import dev.reft.policy.hf.HfFixtures;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code reft.learner.init-model=hf:DIR}: the warm-up's tokenizer and model are the imported ones, and they encode the
 * repository's GSM8K training data (data/gsm8k/gsm8k_nl_from_solutions.json).
 */
class WarmupStartTest {

  @TempDir Path tmp;

  static LearnerSettings settings(Map<String, String> values) {
    SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(LearnerSettings.class)
        .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter()) // "300s", as Quarkus reads it
        .withSources(new PropertiesConfigSource(values, "test", 500)).build();
    return config.getConfigMapping(LearnerSettings.class);
  }

  static Path gsm8k() {
    Path file = Path.of(System.getProperty("reft.data.dir", "../data"), "gsm8k", "gsm8k_nl_from_solutions.json");
    assertThat(file).exists();
    return file;
  }

  @Test
  void anImportedModelAndItsTokenizerStartTheWarmUpOnGsm8k() throws Exception {
    HfFixtures.Written hf = HfFixtures.write(tmp.resolve("qwen"), HfFixtures.Spec.qwen2());
    Map<String, String> values = new HashMap<>(Map.of(
        "reft.learner.init-model", "hf:" + hf.dir(),
        "reft.learner.train-data", gsm8k().toString(),
        "reft.learner.model.seed", "7"));
    LearnerSettings settings = settings(values);
    List<Problem> problems = new TrainingData(settings, CotStyle.NCOT).sftTrain();
    assertThat(problems).hasSizeGreaterThan(1000);
    List<String> notes = new ArrayList<>();
    WarmupRun.Start start = WarmupRun.startingPoint(settings, problems, CotStyle.NCOT, notes::add);
    try (var model = start.model(); var tokenizer = start.tokenizer()) {
      assertThat(tokenizer.json()).isEqualTo(Files.readString(hf.dir().resolve("tokenizer.json")));
      assertThat(model.config().architecture()).isEqualTo(Architecture.QWEN2);
      assertThat(model.namedParameters().get("model.layers.1.self_attn.k_proj.bias").getArray().toFloatArray())
          .containsExactly(hf.weights().get("model.layers.1.self_attn.k_proj.bias"));
      assertThat(model.namedParameters().get("model.embed_tokens.weight").getArray().toFloatArray())
          .containsExactly(hf.weights().get("model.embed_tokens.weight"));
      assertThat(start.description()).contains("Qwen2ForCausalLM").contains(hf.dir().getFileName().toString());
      assertThat(notes).anyMatch(n -> n.startsWith("init-model: ") && n.contains("seed 7"));

      List<Problem> some = problems.subList(0, 50);
      List<SftTrainer.Example> examples = TrainingData.examples(some, CotStyle.NCOT, tokenizer);
      assertThat(examples).hasSize(50);
      for (int i = 0; i < examples.size(); i++) {
        int[] prompt = examples.get(i).prompt();
        int[] target = examples.get(i).target();
        assertThat(prompt[0]).as("BOS from generation_config.json").isEqualTo(tokenizer.bos());
        assertThat(target[target.length - 1]).as("EOS from tokenizer_config.json").isEqualTo(tokenizer.eos());
        assertThat(tokenizer.decode(Arrays.copyOf(target, target.length - 1))).as("byte-level BPE is lossless")
            .isEqualTo(Prompts.target(some.get(i)));
        assertThat(Arrays.stream(prompt).max().getAsInt()).isLessThan(model.config().vocabSize());
      }
    }
  }

  @Test
  void withoutInitModelTheTokenizerIsBuiltFromTheDataAndTheModelIsFresh() throws Exception {
    LearnerSettings settings = settings(Map.of("reft.learner.train-data", gsm8k().toString()));
    List<Problem> problems = new TrainingData(settings, CotStyle.NCOT).sftTrain().subList(0, 200);
    WarmupRun.Start start = WarmupRun.startingPoint(settings, problems, CotStyle.NCOT, n -> { });
    try (var model = start.model(); var tokenizer = start.tokenizer()) {
      assertThat(model.config().vocabSize()).isEqualTo(tokenizer.vocabSize());
      assertThat(model.config().layers()).isEqualTo(2);
      assertThat(start.description()).isEqualTo("tiny");
    }
  }

  @Test
  void anInitModelThatIsNotHfIsRefused() {
    LearnerSettings settings = settings(Map.of("reft.learner.init-model", "/some/dir"));
    assertThatThrownBy(() -> WarmupRun.startingPoint(settings, List.of(), CotStyle.NCOT, n -> { }))
        .hasMessageContaining("hf:DIR").hasMessageContaining("/some/dir");
  }
}
