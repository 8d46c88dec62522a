package dev.reft.cli.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.TopicReader;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.FinishReason;
import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code reft replay} against a real broker: re-scoring sampled trajectories, and copying one run's range. */
@WithKafkaBroker
class ReplayCommandIT {

  @Test
  void rescoresSampledTrajectoriesIntoANewRewardedTopicAndCopiesOneRun(LocalKafkaBroker broker) throws Exception {
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    String sampled = Topics.TRAJECTORIES_SAMPLED.defaultName();
    try (KafkaProducer<String, SampledTrajectory> p = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new StringSerializer(),
        Topics.TRAJECTORIES_SAMPLED.valueSerde().serializer())) {
      for (int i = 0; i < 10; i++) {
        String answer = i % 2 == 0 ? Integer.toString(i) : "99";
        p.send(new ProducerRecord<>(sampled, "p" + i, trajectory(i < 6 ? "a" : "b", i, "The answer is: " + answer, i)));
      }
      // A P-CoT trajectory, to re-score through the sandbox.
      p.send(new ProducerRecord<>(sampled, "program", trajectory("a", 10, "    result = 4 + 6\n    return result", 10,
          CotStyle.PCOT)));
    }
    int exit = new CommandLine(new ReplayCommand()).execute("--bootstrap", broker.bootstrapServers(),
        "--topic", sampled, "--into", "rescored.rewarded", "--rescore");
    assertThat(exit).isZero();
    List<ConsumerRecord<String, RewardedTrajectory>> rescored = TopicReader.readUntil(broker.bootstrapServers(),
        "rescored.rewarded", Topics.TRAJECTORIES_REWARDED.keySerde().deserializer(),
        Topics.TRAJECTORIES_REWARDED.valueSerde().deserializer(), Duration.ofSeconds(30), got -> got.size() >= 11);
    assertThat(rescored).hasSize(11);
    for (ConsumerRecord<String, RewardedTrajectory> r : rescored) {
      int i = r.value().getTrajectory().getSampleIndex();
      Outcome expected = i % 2 == 0 ? Outcome.CORRECT : Outcome.WRONG;
      assertThat(r.value().getOutcome()).as("sample %d", i).isEqualTo(expected);
      assertThat(r.value().getScorerId()).isEqualTo("reft-replay");
    }

    exit = new CommandLine(new ReplayCommand()).execute("--bootstrap", broker.bootstrapServers(),
        "--topic", sampled, "--into", "run-b.sampled", "--run", "b");
    assertThat(exit).isZero();
    List<ConsumerRecord<String, SampledTrajectory>> copied = TopicReader.readUntil(broker.bootstrapServers(),
        "run-b.sampled", Topics.TRAJECTORIES_SAMPLED.keySerde().deserializer(),
        Topics.TRAJECTORIES_SAMPLED.valueSerde().deserializer(), Duration.ofSeconds(30), got -> got.size() >= 4);
    assertThat(copied).hasSize(4).allMatch(r -> r.value().getRunId().equals("b"));
  }

  private static SampledTrajectory trajectory(String run, int i, String response, int gold) {
    return trajectory(run, i, response, gold, CotStyle.NCOT);
  }

  private static SampledTrajectory trajectory(String run, int i, String response, int gold, CotStyle style) {
    Instant now = Instant.now();
    return SampledTrajectory.newBuilder().setRunId(run).setRequestId(run + "-r" + i).setSampleIndex(i)
        .setProblemId("p" + i).setDataset("test").setQuestion("q").setGoldAnswer(Integer.toString(gold))
        .setStyle(style).setPromptTokenIds(List.of(1)).setResponseTokenIds(List.of(2)).setResponseText(response)
        .setBehaviourLogprobs(List.of(-0.1f)).setFinishReason(FinishReason.EOS).setPolicyVersion(0).setTemperature(1f)
        .setSamplerId("test").setRequestCreatedAt(now).setSamplingMillis(1).setCreatedAt(now).build();
  }
}
