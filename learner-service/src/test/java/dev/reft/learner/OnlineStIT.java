package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.TopicReader;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.learner.metrics.Metric;
import dev.reft.learner.store.CheckpointStore;
import dev.reft.learner.store.LearnerState;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.Outcome;
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
    double trained = metrics.stream().mapToDouble(m -> m.get(Metric.TRAINED_SAMPLES.key())).sum();
    for (Map<String, Double> m : metrics) {
      assertThat(m).as("Online-ST has no KL term").doesNotContainKey(Metric.KL_TO_REF.key());
      if (m.get(Metric.TRAINED_SAMPLES.key()) > 0) {
        assertThat(m.get(Metric.SFT_LOSS.key())).as("loss of the steps on correct samples").isPositive();
        assertThat(m.get(Metric.TOKENS_PER_SECOND.key())).as("speed of those steps").isPositive();
      } else {
        assertThat(m).as("a batch with nothing correct trains nothing")
            .doesNotContainKeys(Metric.SFT_LOSS.key(), Metric.TOKENS_PER_SECOND.key());
      }
    }
    // Independently: the CORRECT trajectories of the run on the rewarded topic that the learner consumed. With as
    // many requests in flight as a batch has questions, every batch is exactly the answers to its own requests,
    // none is stale and nothing is held at the end.
    assertThat(last.pendingOffsets()).isEmpty();
    long correctConsumed = TopicReader.readAll(broker.bootstrapServers(), Topics.TRAJECTORIES_REWARDED.defaultName(),
            Topics.TRAJECTORIES_REWARDED.keySerde().deserializer(), Topics.TRAJECTORIES_REWARDED.valueSerde().deserializer(),
            Duration.ofSeconds(30)).stream()
        .filter(r -> RUN.equals(r.value().getTrajectory().getRunId()))
        .filter(r -> r.offset() < last.rewardedOffsets().get(r.partition()))
        .filter(r -> r.value().getOutcome() == Outcome.CORRECT)
        .count();
    assertThat(trained).as("SFT steps on exactly the correct samples consumed").isEqualTo((double) correctConsumed);
    System.out.printf("OnlineStIT: trained on %.0f correct samples of %d%n", trained, 4 * 32);
    assertThat(trained)
        .as("a 15-epoch warm-up answers some training questions correctly").isPositive();
  }
}
