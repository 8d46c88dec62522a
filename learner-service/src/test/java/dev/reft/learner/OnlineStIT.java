package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.TopicReader;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.learner.store.CheckpointStore;
import dev.reft.learner.store.LearnerState;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Online-ST baseline runs the same loop as ReFT, training with SFT on the correct samples. */
@WithKafkaBroker
class OnlineStIT {

  private static final String RUN = "online-st-it";

  @Test
  void onlineStTrainsOnTheCorrectSamplesOfEachBatch(LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    Path checkpoints = dir.resolve("checkpoints");
    Map<String, String> common = LearnerRig.settings(RUN, dir, 300);
    LearnerRig.warmUp(broker, dir, common, 15);
    Map<String, String> online = new HashMap<>(common);
    online.putAll(Map.of("reft.learner.mode", "online-st", "reft.learner.reft.total-updates", "4",
        "reft.learner.reft.eval-every", "0", "reft.ppo.questions-per-batch", "8", "reft.ppo.samples-per-question", "4",
        "reft.ppo.max-in-flight", "8", "reft.ppo.max-new-tokens", "64"));
    try (ServiceProcess reward = LearnerRig.reward(broker, dir);
        ServiceProcess sampler = LearnerRig.sampler(broker, dir, RUN, 32);
        ServiceProcess learner = LearnerRig.learner(broker, dir, online, "online-st.log")) {
      assertThat(learner.process().waitFor(600, TimeUnit.SECONDS)).isTrue();
      assertThat(learner.process().exitValue()).as("log:%n%s", learner.tail(40)).isZero();
    }
    LearnerState last = LearnerState.fromJson(new CheckpointStore(checkpoints, RUN, 5).open(4).orElseThrow()
        .read(CheckpointStore.STATE));
    assertThat(last.mode()).isEqualTo("online-st");
    List<ConsumerRecord<String, LearnerUpdate>> updates = TopicReader.readUntil(broker.bootstrapServers(),
        Topics.LEARNER_UPDATES.defaultName(), Topics.LEARNER_UPDATES.keySerde().deserializer(),
        Topics.LEARNER_UPDATES.valueSerde().deserializer(), Duration.ofSeconds(30),
        got -> got.stream().filter(r -> "online-st".equals(r.value().getMode())).count() >= 4);
    List<Map<String, Double>> metrics = updates.stream().map(ConsumerRecord::value)
        .filter(u -> "online-st".equals(u.getMode())).map(LearnerUpdate::getMetrics).toList();
    assertThat(metrics).hasSize(4);
    for (Map<String, Double> m : metrics) {
      // Exactly the correct samples of the batch (accuracy × 32) were trained on.
      assertThat(m.get("trained_samples")).isEqualTo(Math.round(m.get("accuracy") * 32) * 1.0);
    }
    double trained = metrics.stream().mapToDouble(m -> m.get("trained_samples")).sum();
    System.out.printf("OnlineStIT: trained on %.0f correct samples of %d%n", trained, 4 * 32);
    assertThat(trained)
        .as("a 15-epoch warm-up answers some training questions correctly").isPositive();
  }
}
