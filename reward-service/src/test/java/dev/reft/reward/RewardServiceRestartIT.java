package dev.reft.reward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service ({@code java -jar target/quarkus-app/quarkus-run.jar}), killed with SIGKILL in the
 * middle of a stream and started again: a read_committed consumer sees every input graded exactly once.
 */
@WithKafkaBroker
class RewardServiceRestartIT {

  private static final int TRAJECTORIES = 300;

  @Test
  void aKilledAndRestartedInstanceGradesEveryTrajectoryExactlyOnce(LocalKafkaBroker broker, @TempDir Path logs)
      throws Exception {
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    String sampledTopic = Topics.TRAJECTORIES_SAMPLED.defaultName();
    var serializer = Topics.TRAJECTORIES_SAMPLED.valueSerde().serializer();
    try (KafkaProducer<String, byte[]> producer = TestClients.rawProducer(broker.bootstrapServers())) {
      for (int i = 0; i < TRAJECTORIES; i++) {
        // Each program counts for a while, so the service is surely mid-stream when it is killed.
        String body = "    total = 0\n    for i in range(150000):\n        total += 1\n    result = total + " + i
            + "\n    return result";
        SampledTrajectory t = Trajectories.sampled("req-" + (i / 4), i % 4, CotStyle.PCOT, "Count.", body,
            Integer.toString(150000 + i), 1);
        producer.send(new ProducerRecord<>(sampledTopic, "p" + i, serializer.serialize(sampledTopic, t)));
      }
    }

    List<ConsumerRecord<String, RewardedTrajectory>> before;
    ServiceProcess first = start(broker, logs.resolve("first.log"));
    try {
      before = TestClients.readUntil(broker.bootstrapServers(), Topics.TRAJECTORIES_REWARDED,
          Topics.TRAJECTORIES_REWARDED.defaultName(), Duration.ofSeconds(120), got -> got.size() >= 40);
    } finally {
      first.kill(); // SIGKILL: no clean shutdown; the open transaction is aborted by the broker
    }
    assertThat(before).as("graded before the kill; log:%n%s", first.tail(40))
        .hasSizeGreaterThanOrEqualTo(40).hasSizeLessThan(TRAJECTORIES);

    List<ConsumerRecord<String, RewardedTrajectory>> all;
    ServiceProcess second = start(broker, logs.resolve("second.log"));
    try (second) {
      all = TestClients.readUntil(broker.bootstrapServers(), Topics.TRAJECTORIES_REWARDED,
          Topics.TRAJECTORIES_REWARDED.defaultName(), Duration.ofSeconds(180), got -> got.size() >= TRAJECTORIES);
    }
    Map<String, Long> counts = all.stream().map(ConsumerRecord::value)
        .collect(Collectors.groupingBy(r -> r.getTrajectory().getRequestId() + "#" + r.getTrajectory().getSampleIndex(),
            Collectors.counting()));
    assertThat(counts).as("log of the restarted instance:%n%s", second.tail(40))
        .hasSize(TRAJECTORIES);
    assertThat(counts.values()).as("every trajectory graded exactly once").allMatch(c -> c == 1L);
    assertThat(all).allSatisfy(r -> assertThat(r.value().getReward()).isEqualTo(1.0f));
  }

  private static ServiceProcess start(LocalKafkaBroker broker, Path log) {
    return ServiceProcess.start("reward-service", Path.of("target", "quarkus-app", "quarkus-run.jar"),
        LocalKafkaBroker.freePort(),
        Map.of("reft.reward.stream-threads", "1", "reft.sandbox.workers", "1"),
        Map.of("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers()), "512m", log);
  }
}
