package dev.reft.reward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.DeadLetter;
import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * The service with {@code reft.sandbox.mode=off} and a bubblewrap that does not exist — as in a Pod Security
 * "restricted" namespace, where bubblewrap could not create its namespaces: it starts, is ready, grades N-CoT,
 * and dead-letters a P-CoT trajectory with the reason instead of failing.
 */
@QuarkusTest
@TestProfile(RewardServiceSandboxOffTest.SandboxOff.class)
@QuarkusTestResource(value = CatalogTopicsKafka.class, restrictToAnnotatedClass = true)
class RewardServiceSandboxOffTest {

  /** The sandbox off; a sandbox that would start could not (no bubblewrap at that path). */
  public static final class SandboxOff implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("reft.sandbox.mode", "off", "reft.sandbox.bwrap", "/nonexistent/bwrap",
          "quarkus.kafka-streams.application-id", "reft-reward-off");
    }
  }

  @TestHTTPResource("/q/health/ready")
  URI readiness;

  @Test
  void gradesNcotAndDeadLettersPcotWithoutASandbox() throws Exception {
    String bootstrap = CatalogTopicsKafka.current.bootstrapServers();
    String topic = Topics.TRAJECTORIES_SAMPLED.defaultName();
    var serde = Topics.TRAJECTORIES_SAMPLED.valueSerde().serializer();
    try (KafkaProducer<String, byte[]> producer = TestClients.rawProducer(bootstrap)) {
      for (SampledTrajectory t : List.of(
          Trajectories.ncot("off-n1", "Therefore, the answer is: 7", "7"),
          Trajectories.pcot("off-p1", "    return 7", "7"),
          Trajectories.ncot("off-n2", "Therefore, the answer is: 8", "7"))) {
        producer.send(new ProducerRecord<>(topic, t.getProblemId(), serde.serialize(topic, t))).get();
      }
    }
    List<ConsumerRecord<String, RewardedTrajectory>> rewarded = TestClients.readUntil(bootstrap,
        Topics.TRAJECTORIES_REWARDED, Topics.TRAJECTORIES_REWARDED.defaultName(), Duration.ofSeconds(120),
        got -> got.size() >= 2);
    assertThat(rewarded).extracting(r -> r.value().getTrajectory().getRequestId())
        .containsExactlyInAnyOrder("off-n1", "off-n2");
    assertThat(rewarded).extracting(r -> r.value().getOutcome())
        .containsExactlyInAnyOrder(Outcome.CORRECT, Outcome.WRONG);
    List<ConsumerRecord<String, DeadLetter>> dead = TestClients.readUntil(bootstrap, Topics.DEADLETTER,
        Topics.DEADLETTER.defaultName(), Duration.ofSeconds(60), got -> !got.isEmpty());
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).value().getErrorMessage()).contains("off-p1", "reft.sandbox.mode=off");

    HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(readiness).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(ready.body()).contains("p-cot-sandbox").contains("\"mode\": \"off\"");
  }
}
