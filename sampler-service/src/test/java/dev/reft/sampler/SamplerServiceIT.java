package dev.reft.sampler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged sampler against a real broker: output, log-probs, hot-swap, refusal, crash recovery. */
@WithKafkaBroker
class SamplerServiceIT {

  private static String key(SampledTrajectory t) {
    return t.getRequestId() + "#" + t.getSampleIndex();
  }

  /** With two generation threads: the parallel path, whose batches are sent in order inside one transaction. */
  @Test
  void answersFiftyRequestsWithExactly200TrajectoriesCarryingTheTrainingLogProbs(LocalKafkaBroker broker,
      @TempDir Path dir) throws Exception {
    SamplerFixture f = new SamplerFixture(broker, dir);
    Checkpoint v1 = f.writeCheckpoint("v1", 1);
    f.publish(v1, 1);
    try (ServiceProcess sampler = f.startSampler("sampler.log", 16, 2)) {
      f.send(f.requests("a", 50, 4, 24));
      List<SampledTrajectory> out = f.readSampled(Duration.ofSeconds(180), 200);
      Map<String, SampledTrajectory> byKey = out.stream()
          .collect(Collectors.toMap(SamplerServiceIT::key, Function.identity(), (a, b) -> {
            throw new AssertionError("duplicate " + key(a));
          }));
      assertThat(byKey).as("log:%n%s", sampler.tail(30)).hasSize(200);
      try (PolicyModel model = Checkpoint.open(v1.directory(), v1.identity()).loadModel()) {
        for (SampledTrajectory t : byKey.values()) {
          assertThat(t.getPolicyVersion()).isEqualTo(1);
          assertThat(t.getBehaviourLogprobs()).hasSameSizeAs(t.getResponseTokenIds());
          assertThat(t.getResponseText()).isEqualTo(f.tokenizer.decode(
              t.getResponseTokenIds().stream().mapToInt(Integer::intValue).toArray()));
          float[] expected = SamplerFixture.trainingLogProbs(model, t);
          for (int i = 0; i < expected.length; i++) {
            assertThat(t.getBehaviourLogprobs().get(i)).as("%s token %d", key(t), i)
                .isCloseTo(expected[i], org.assertj.core.api.Assertions.within(1e-4f));
          }
        }
      }
      assertThat(sampler.metrics()).contains("reft_sampler_tokens_total", "reft_sampler_policy_version 1.0");
      assertThat(sampler.tail(400)).as("the settings line").contains("parallelism=2");
    }
  }

  @Test
  void hotSwapsToANewVersionAndRefusesATamperedOne(LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
    SamplerFixture f = new SamplerFixture(broker, dir);
    f.publish(f.writeCheckpoint("v1", 1), 1);
    try (ServiceProcess sampler = f.startSampler("sampler.log", 8)) {
      f.send(f.requests("before", 4, 2, 8));
      f.readSampled(Duration.ofSeconds(120), 8);

      f.publish(f.writeCheckpoint("v2", 2), 2);
      awaitServed(sampler, f, 2);
      f.send(f.requests("after-v2", 4, 2, 8));

      Checkpoint v3 = f.writeCheckpoint("v3", 3);
      Path weights = v3.directory().resolve(Checkpoint.WEIGHTS);
      byte[] bytes = Files.readAllBytes(weights);
      bytes[bytes.length - 1] ^= 0x55; // one flipped byte in the weights
      Files.write(weights, bytes);
      f.publish(v3, 3);
      awaitMetric(sampler, "reft_sampler_checkpoints_refused_total 1.0");
      f.send(f.requests("after-v3", 4, 2, 8));

      Map<String, Long> versions = f.readSampled(Duration.ofSeconds(120), 24).stream()
          .collect(Collectors.toMap(SamplerServiceIT::key, SampledTrajectory::getPolicyVersion));
      assertThat(versions).hasSize(24);
      versions.forEach((k, v) -> {
        long expected = k.startsWith("before") ? 1 : 2;
        assertThat(v).as(k).isEqualTo(expected);
      });
      assertThat(sampler.tail(200)).contains("REFUSED checkpoint version 3");
    }
  }

  @Test
  void afterACrashEveryRequestSampleAppearsExactlyOnceToReadCommittedReaders(LocalKafkaBroker broker,
      @TempDir Path dir) throws Exception {
    SamplerFixture f = new SamplerFixture(broker, dir);
    f.publish(f.writeCheckpoint("v1", 1), 1);
    f.send(f.requests("crash", 120, 4, 48));
    ServiceProcess first = f.startSampler("first.log", 8);
    List<SampledTrajectory> before;
    try {
      before = f.readSampled(Duration.ofSeconds(120), 40);
    } finally {
      first.kill();
    }
    assertThat(before.size()).as("killed mid-stream").isBetween(40, 479);
    try (ServiceProcess second = f.startSampler("second.log", 8)) {
      List<SampledTrajectory> all = f.readSampled(Duration.ofSeconds(300), 480);
      Map<String, Long> counts = all.stream()
          .collect(Collectors.groupingBy(SamplerServiceIT::key, Collectors.counting()));
      assertThat(counts).as("log:%n%s", second.tail(30)).hasSize(480);
      assertThat(counts.values()).allMatch(c -> c == 1L);
    }
  }

  @Test
  void deadLettersRequestsItCannotDecodeOrServeAndCarriesOn(LocalKafkaBroker broker, @TempDir Path dir)
      throws Exception {
    SamplerFixture f = new SamplerFixture(broker, dir);
    f.publish(f.writeCheckpoint("v1", 1), 1);
    try (ServiceProcess sampler = f.startSampler("sampler.log", 8)) {
      String topic = Topics.ROLLOUT_REQUESTS.defaultName();
      try (var p = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(
          Map.of("bootstrap.servers", broker.bootstrapServers()),
          new org.apache.kafka.common.serialization.StringSerializer(),
          new org.apache.kafka.common.serialization.ByteArraySerializer())) {
        p.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, "garbage", "not a request".getBytes())).get();
      }
      var bad = f.requests("bad", 1, 4, 8).get(0);
      bad.setSamples(0);
      f.send(List.of(bad));
      f.send(f.requests("good", 2, 2, 8));
      assertThat(f.readSampled(Duration.ofSeconds(120), 4)).hasSize(4)
          .allMatch(t -> t.getRequestId().startsWith("good"));
      var dead = dev.reft.kafka.local.TopicReader.readUntil(broker.bootstrapServers(), Topics.DEADLETTER.defaultName(),
          Topics.DEADLETTER.keySerde().deserializer(), Topics.DEADLETTER.valueSerde().deserializer(),
          Duration.ofSeconds(60), got -> got.size() >= 2);
      assertThat(dead).extracting(r -> r.value().getStage())
          .containsExactlyInAnyOrder("DESERIALIZATION", "PROCESSING");
      assertThat(dead).filteredOn(r -> r.value().getStage().equals("PROCESSING"))
          .allSatisfy(r -> assertThat(r.value().getErrorMessage()).contains("samples must be 1..1024"));
      assertThat(sampler.metrics()).contains("reft_sampler_deadletters_total 2.0");
    }
  }

  private static void awaitServed(ServiceProcess sampler, SamplerFixture f, long version) {
    awaitMetric(sampler, "reft_sampler_policy_version_loaded " + version + ".0");
  }

  /** Waits until the metrics page contains a line; the sampler swaps versions between batches. */
  private static void awaitMetric(ServiceProcess sampler, String line) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (sampler.metrics().contains(line)) {
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new AssertionError("metrics never showed '" + line + "'; log:\n" + sampler.tail(40));
  }
}
