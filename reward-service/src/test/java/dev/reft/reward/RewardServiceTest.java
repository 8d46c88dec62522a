package dev.reft.reward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.CotStyle;
import dev.reft.schemas.DeadLetter;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Datasets;
import dev.reft.tasks.Grade;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import dev.reft.tasks.RepoData;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * The whole service (Quarkus, Kafka Streams, sandbox) against a real in-JVM broker: 200 sampled
 * trajectories in — real SVAMP P-CoT programs and N-CoT annotations, plus poison pills — and exactly the
 * graded ones out, with the rewards {@code tasks} computes directly, and the pills dead-lettered.
 */
@QuarkusTest
@QuarkusTestResource(value = CatalogTopicsKafka.class, restrictToAnnotatedClass = true)
class RewardServiceTest {

  @TestHTTPResource("/q/health/ready")
  URI readiness;

  @TestHTTPResource("/q/metrics")
  URI metrics;

  @Test
  void grades200TrajectoriesExactlyOnceAndDeadLettersThePoisonPills() throws Exception {
    List<Problem> programs = Datasets.read(RepoData.file("reft/svamp_python_sdp.json"), CotStyle.PCOT);
    List<Problem> texts = Datasets.read(RepoData.file("reft/svamp_nl.json"), CotStyle.NCOT);
    List<SampledTrajectory> good = new ArrayList<>();
    for (int i = 0; i < 95; i++) {
      Problem p = programs.get(i * 31);
      // Every third program gets a wrong gold answer, so WRONG rewards flow too.
      String gold = i % 3 == 0 ? "12345" : p.goldAnswer();
      good.add(Trajectories.sampled("svamp-p-" + i, i % 4, CotStyle.PCOT, p.question(), Prompts.target(p), gold, 1));
    }
    for (int i = 0; i < 95; i++) {
      Problem p = texts.get(i * 29);
      good.add(Trajectories.sampled("svamp-n-" + i, 0, CotStyle.NCOT, p.question(), Prompts.target(p), p.goldAnswer(), 2));
    }
    List<SampledTrajectory> unscorable = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      unscorable.add(Trajectories.sampled("bad-gold-" + i, 0, CotStyle.NCOT, "q", "the answer is: 3", "three", 2));
    }

    // What tasks computes directly, for the same inputs.
    Map<String, Grade> expected = new HashMap<>();
    try (PythonSandbox sandbox = PythonSandbox.start(SandboxConfig.defaults().withWorkers(1))) {
      Grader grader = new Grader(sandbox);
      for (SampledTrajectory t : good) {
        expected.put(key(t), grader.grade(t.getStyle(), t.getQuestion(), t.getResponseText(), t.getGoldAnswer()));
      }
    }

    String bootstrap = CatalogTopicsKafka.current.bootstrapServers();
    String sampledTopic = Topics.TRAJECTORIES_SAMPLED.defaultName();
    var serde = Topics.TRAJECTORIES_SAMPLED.valueSerde().serializer();
    try (KafkaProducer<String, byte[]> producer = TestClients.rawProducer(bootstrap)) {
      // Every send is acknowledged before going on, so a lost input fails here and not as a wrong count.
      int pill = 0;
      for (int i = 0; i < good.size(); i++) {
        SampledTrajectory t = good.get(i);
        producer.send(new ProducerRecord<>(sampledTopic, t.getProblemId(), serde.serialize(sampledTopic, t))).get();
        if (i % 38 == 0 && pill < 5) { // garbage bytes among real records
          producer.send(new ProducerRecord<>(sampledTopic, "garbage-" + pill, ("not avro " + pill).getBytes())).get();
          pill++;
        }
      }
      for (SampledTrajectory t : unscorable) {
        producer.send(new ProducerRecord<>(sampledTopic, t.getProblemId(), serde.serialize(sampledTopic, t))).get();
      }
      producer.flush();
    }

    List<ConsumerRecord<String, RewardedTrajectory>> rewarded = TestClients.readUntil(bootstrap,
        Topics.TRAJECTORIES_REWARDED, Topics.TRAJECTORIES_REWARDED.defaultName(), Duration.ofSeconds(120),
        got -> got.size() >= good.size());
    Map<String, RewardedTrajectory> byKey = rewarded.stream().map(ConsumerRecord::value)
        .collect(Collectors.toMap(r -> key(r.getTrajectory()), Function.identity(), (a, b) -> {
          throw new AssertionError("graded twice: " + key(a.getTrajectory()));
        }));
    assertThat(byKey.keySet())
        .as("graded trajectories (%s; %s)", TestClients.endOffsets(bootstrap, Topics.TRAJECTORIES_REWARDED.defaultName()),
            TestClients.endOffsets(bootstrap, sampledTopic) + "; " + TestClients.endOffsets(bootstrap, Topics.DEADLETTER.defaultName())
            + "\n" + scrape().lines().filter(l -> l.startsWith("reft_")).collect(Collectors.joining("\n"))
            + "\n" + TestClients.readUntil(bootstrap, Topics.DEADLETTER, Topics.DEADLETTER.defaultName(),
                Duration.ofSeconds(5), got -> !got.isEmpty()).stream().limit(3)
                .map(d -> d.value().getErrorMessage()).collect(Collectors.joining("\n")))
        .isEqualTo(expected.keySet());
    for (var e : expected.entrySet()) {
      RewardedTrajectory r = byKey.get(e.getKey());
      assertThat(r.getOutcome()).as(e.getKey()).isEqualTo(e.getValue().outcome());
      assertThat(r.getReward()).as(e.getKey()).isEqualTo(e.getValue().reward());
      assertThat(r.getExtractedAnswer()).as(e.getKey()).isEqualTo(e.getValue().extractedAnswer());
    }
    assertThat(byKey.values().stream().filter(r -> r.getReward() == 1.0f).count()).isGreaterThan(100);
    assertThat(byKey.values().stream().filter(r -> r.getReward() == 0.1f).count()).isGreaterThan(20);

    List<ConsumerRecord<String, DeadLetter>> dead = TestClients.readUntil(bootstrap, Topics.DEADLETTER,
        Topics.DEADLETTER.defaultName(), Duration.ofSeconds(60), got -> got.size() >= 10);
    assertThat(dead).hasSize(10);
    assertThat(dead.stream().filter(d -> d.value().getStage().equals("DESERIALIZATION")).map(ConsumerRecord::key))
        .containsExactlyInAnyOrder("garbage-0", "garbage-1", "garbage-2", "garbage-3", "garbage-4");
    assertThat(dead.stream().filter(d -> d.value().getStage().equals("PROCESSING")).count()).isEqualTo(5);
    assertThat(dead).allSatisfy(d -> assertThat(d.value().getSourceTopic()).isEqualTo(sampledTopic));

    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> ready = http.send(HttpRequest.newBuilder(readiness).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(ready.body()).contains("p-cot-sandbox");
    String scraped = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
    assertThat(scraped).contains("reft_reward_trajectories_total", "reft_reward_execution_seconds_bucket",
        "reft_reward_deadletters_total", "reft_reward_version_accuracy");
  }

  private String scrape() {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (Exception e) {
      return e.toString();
    }
  }

  private static String key(SampledTrajectory t) {
    return t.getRequestId() + "#" + t.getSampleIndex();
  }
}
