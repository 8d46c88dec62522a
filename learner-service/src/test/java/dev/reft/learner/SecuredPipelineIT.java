package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.TopicReader;
import dev.reft.learner.loop.KafkaIo;
import dev.reft.schemas.KafkaClientConfig;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.ServiceAccess;
import dev.reft.schemas.Topic;
import dev.reft.schemas.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three services on a secured cluster — SASL SCRAM-SHA-512 authentication and ACL authorization, each
 * service its own user with the grants of {@link ServiceAccess} (the same as {@code k8s/strimzi/users.yaml}) —
 * configured only through {@code KAFKA_*} environment variables, as the Kubernetes manifests configure them.
 * The learner runs in mode {@code auto}: warm-up, then one PPO update through the samplers and the reward
 * service. And what must be refused is: a client without credentials, a service's credentials on another
 * service's topic or transactional id.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecuredPipelineIT {

  private static final String RUN = "secured-it";
  private static LocalKafkaBroker broker;

  @BeforeAll
  static void startSecuredBroker() {
    broker = LocalKafkaBroker.builder().optScram("admin", "admin-secret").build().start();
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    for (ServiceAccess service : ServiceAccess.values()) {
      broker.addScramUser(service.user(), password(service));
      broker.createAcls(service.aclBindings(key -> Optional.empty()));
    }
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  private static String password(ServiceAccess service) {
    return service.user() + "-secret";
  }

  /** A service's Kafka settings, as the environment variables its pod gets. */
  private static Map<String, String> env(ServiceAccess service) {
    return Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers(),
        "KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM", LocalKafkaBroker.SCRAM_MECHANISM,
        "KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + service.user() + "\" password=\"" + password(service) + "\";");
  }

  /** The client properties a service builds from that environment, with short timeouts for refusals. */
  private static Map<String, Object> client(Map<String, String> env) {
    Map<String, Object> client = new HashMap<>(KafkaClientConfig.from(env));
    client.put("max.block.ms", 5_000);
    client.put("delivery.timeout.ms", 5_000);
    client.put("request.timeout.ms", 4_000);
    return client;
  }

  @Test
  @Order(1) // before the refusal checks, which write junk to the topics
  @SuppressWarnings("try") // reward and sampler are held open for the learner's run
  void theServicesTrainByConfigurationAloneEachWithItsOwnUser(@TempDir Path dir) throws Exception {
    Map<String, String> props = LearnerRig.settings(RUN, dir, 32);
    props.putAll(Map.of(
        "reft.learner.mode", "auto",
        "reft.learner.sft.epochs", "1",
        "reft.learner.sft.eval-problems", "0",
        "reft.learner.sft.final-eval", "false",
        "reft.learner.reft.total-updates", "1",
        "reft.learner.reft.eval-every", "0",
        "reft.learner.reft.final-eval", "false",
        "reft.ppo.questions-per-batch", "4",
        "reft.ppo.samples-per-question", "2",
        "reft.ppo.max-new-tokens", "32"));
    try (ServiceProcess reward = LearnerRig.reward(env(ServiceAccess.REWARD), dir, Map.of());
        ServiceProcess sampler = LearnerRig.sampler(env(ServiceAccess.SAMPLER), dir, RUN, 16);
        ServiceProcess learner = LearnerRig.learner(env(ServiceAccess.LEARNER), dir, props, "learner.log")) {
      assertThat(learner.process().waitFor(600, TimeUnit.SECONDS)).as("learner finished; log:%n%s", learner.tail(40))
          .isTrue();
      assertThat(learner.process().exitValue()).as("learner log:%n%s%nsampler log:%n%s%nreward log:%n%s",
          learner.tail(40), sampler.tail(20), reward.tail(20)).isZero();
      assertThat(learner.tail(400)).contains("warm-up SFT first, then ReFT").contains("reft v1:");
    }
    List<LearnerUpdate> updates = TopicReader.readUntil(broker.clientConfig(), Topics.LEARNER_UPDATES.defaultName(),
            Topics.LEARNER_UPDATES.keySerde().deserializer(), Topics.LEARNER_UPDATES.valueSerde().deserializer(),
            Duration.ofSeconds(30), got -> got.stream().anyMatch(r -> "reft".equals(r.value().getMode())))
        .stream().map(ConsumerRecord::value).filter(u -> RUN.equals(u.getRunId()) && "reft".equals(u.getMode()))
        .toList();
    assertThat(updates).as("one PPO update trained on graded trajectories").hasSize(1);
    assertThat(updates.get(0).getMetrics().get("trajectories")).isPositive();
  }

  @Test
  void aClientWithoutCredentialsIsRefused() {
    Map<String, Object> plain = new HashMap<>(Map.of("bootstrap.servers", broker.bootstrapServers(),
        "max.block.ms", 5_000, "request.timeout.ms", 4_000));
    assertThatThrownBy(() -> new KafkaIo(plain, RUN, key -> Optional.empty(), new SimpleMeterRegistry()).close())
        .isInstanceOf(KafkaException.class);
  }

  @Test
  void theLearnersClientsRefuseAnotherServicesCredentials() {
    // KafkaIo's transactional producer needs the transactional id reft-learner-<run>, granted to the learner only.
    assertThatThrownBy(() -> new KafkaIo(client(env(ServiceAccess.SAMPLER)), RUN, key -> Optional.empty(),
        new SimpleMeterRegistry()).close())
        .isInstanceOf(TransactionalIdAuthorizationException.class);
    new KafkaIo(client(env(ServiceAccess.LEARNER)), RUN, key -> Optional.empty(), new SimpleMeterRegistry()).close();
  }

  @Test
  void aServiceCannotWriteAnotherServicesTopics() throws Exception {
    for (ServiceAccess service : ServiceAccess.values()) {
      try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(client(env(service)), new StringSerializer(),
          new ByteArraySerializer())) {
        for (Topic<?, ?> topic : Topics.ALL) {
          String name = topic.defaultName();
          ProducerRecord<String, byte[]> record = new ProducerRecord<>(name, "k", new byte[] {1});
          if (service.writes().contains(topic)) {
            assertThat(p.send(record).get().topic()).isEqualTo(name);
          } else {
            assertThatThrownBy(() -> p.send(record).get()).as("%s writing %s", service, name)
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TopicAuthorizationException.class);
          }
        }
      }
    }
  }
}
