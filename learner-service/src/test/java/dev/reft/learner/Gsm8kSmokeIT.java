package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.TopicReader;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.learner.store.CheckpointStore;
import dev.reft.policy.hf.HfFixtures;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Real data end to end: a tiny random model written as a Hugging Face directory is imported by the warm-up
 * ({@code reft.learner.init-model=hf:DIR}), fine-tuned on the repository's data — GSM8K N-CoT (built from GSM8K's
 * own solutions) and SVAMP P-CoT (the ReFT authors' programs, graded in the sandbox) — then trained with 5 PPO
 * updates through the broker, the samplers and the reward service, with the imported byte-level BPE tokenizer all
 * the way.
 */
@WithKafkaBroker
class Gsm8kSmokeIT {

  private static final int UPDATES = 5;

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"gsm8k, ncot, gsm8k/gsm8k_nl_from_solutions.json", "svamp, pcot, reft/svamp_python_sdp.json"})
  @SuppressWarnings("try") // reward and sampler are held open for the learner's run
  void anImportedModelWarmsUpOnRealDataAndTrainsThroughThePipeline(String dataset, String style, String file,
      LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
    String run = dataset + "-" + style + "-smoke";
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    HfFixtures.Spec llama = HfFixtures.Spec.llama();
    HfFixtures.Spec spec = new HfFixtures.Spec(llama.architecture(), llama.hidden(), llama.layers(), llama.heads(),
        llama.kvHeads(), llama.intermediate(), llama.tied(), llama.ropeTheta(), llama.rmsEps(), 1024,
        llama.spareVocab(), llama.dtype(), llama.shards(), llama.seed(), llama.std(), llama.qwenSpecials());
    Path hf = HfFixtures.write(dir.resolve("hf"), spec).dir();
    Path data = Path.of(System.getProperty("reft.data.dir", "../data")).resolve(file);
    Path train = firstItems(data, 48, dir.resolve("train.json"));
    Path test = firstItems(data, 8, dir.resolve("test.json"));

    Map<String, String> common = new HashMap<>(Map.of(
        "reft.learner.run-id", run,
        "reft.learner.style", style,
        "reft.learner.checkpoint-dir", dir.resolve("checkpoints").toString(),
        "reft.learner.init-model", "hf:" + hf,
        "reft.learner.train-data", train.toString(),
        "reft.learner.test-data", test.toString(),
        "reft.learner.eval.voting-k", "0",
        "reft.learner.eval.max-new-tokens", "32",
        "reft.learner.threads", "1"));
    LearnerRig.warmUp(broker, dir, common, 1);
    Map<String, String> reft = new HashMap<>(common);
    reft.putAll(Map.of(
        "reft.learner.mode", "reft",
        "reft.learner.reft.total-updates", Integer.toString(UPDATES),
        "reft.learner.reft.eval-every", "0",
        "reft.ppo.questions-per-batch", "4",
        "reft.ppo.samples-per-question", "2",
        "reft.ppo.max-new-tokens", "32"));
    try (ServiceProcess reward = LearnerRig.reward(broker, dir);
        ServiceProcess sampler = LearnerRig.sampler(broker, dir, run, 8);
        ServiceProcess learner = LearnerRig.learner(broker, dir, reft, "reft.log")) {
      assertThat(learner.process().waitFor(600, TimeUnit.SECONDS)).as("ReFT run finished").isTrue();
      assertThat(learner.process().exitValue()).as("log:%n%s", learner.tail(40)).isZero();
    }

    assertThat(new CheckpointStore(dir.resolve("checkpoints"), run, 50).open(UPDATES)).isPresent();
    List<LearnerUpdate> updates = TopicReader.readAll(broker.bootstrapServers(), Topics.LEARNER_UPDATES.defaultName(),
            Topics.LEARNER_UPDATES.keySerde().deserializer(), Topics.LEARNER_UPDATES.valueSerde().deserializer(),
            Duration.ofSeconds(30)).stream().map(ConsumerRecord::value)
        .filter(u -> run.equals(u.getRunId()) && "reft".equals(u.getMode())).toList();
    assertThat(updates).extracting(LearnerUpdate::getPolicyVersion).contains(1L, 2L, 3L, 4L, 5L);
    List<RewardedTrajectory> graded = TopicReader.readAll(broker.bootstrapServers(),
            Topics.TRAJECTORIES_REWARDED.defaultName(), Topics.TRAJECTORIES_REWARDED.keySerde().deserializer(),
            Topics.TRAJECTORIES_REWARDED.valueSerde().deserializer(), Duration.ofSeconds(30)).stream()
        .map(ConsumerRecord::value).filter(r -> run.equals(r.getTrajectory().getRunId())).toList();
    assertThat(graded).hasSizeGreaterThanOrEqualTo(UPDATES * 4 * 2)
        .allMatch(r -> r.getTrajectory().getDataset().equals(dataset), dataset + " questions")
        .allMatch(r -> r.getTrajectory().getStyle().toString().equalsIgnoreCase(style), style + " chains of thought")
        .allMatch(r -> !r.getTrajectory().getResponseTokenIds().isEmpty(), "generated with the imported tokenizer");
  }

  /** The first {@code n} items of a ReFT JSON file, written to {@code out}. */
  private static Path firstItems(Path file, int n, Path out) throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode all = json.readTree(file.toFile());
    ArrayNode some = json.createArrayNode();
    for (int i = 0; i < n; i++) {
      some.add(all.get(i));
    }
    Files.writeString(out, json.writeValueAsString(some));
    return out;
  }
}
