package dev.reft.kafka.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A broker built with {@code optScram}: SCRAM authentication and ACL authorization, as a secured cluster. */
class SecuredBrokerTest {

  static LocalKafkaBroker broker;

  @BeforeAll
  static void start() {
    broker = LocalKafkaBroker.builder().optScram("admin", "admin-secret").build().start();
    broker.createTopics(List.of(new NewTopic("allowed", 1, (short) 1), new NewTopic("forbidden", 1, (short) 1)));
    broker.addScramUser("alice", "alice-secret");
    broker.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "allowed", PatternType.LITERAL),
        new AccessControlEntry("User:alice", "*", AclOperation.WRITE, AclPermissionType.ALLOW))));
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  @Test
  void aUserWritesWhereAnAclAllowsIt() throws Exception {
    try (KafkaProducer<String, String> p = producer(LocalKafkaBroker.scramClientSecurity("alice", "alice-secret"))) {
      assertThat(p.send(new ProducerRecord<>("allowed", "k", "v")).get().offset()).isZero();
    }
  }

  @Test
  void aUserIsRefusedATopicNoAclGrants() {
    try (KafkaProducer<String, String> p = producer(LocalKafkaBroker.scramClientSecurity("alice", "alice-secret"))) {
      assertThatThrownBy(() -> p.send(new ProducerRecord<>("forbidden", "k", "v")).get())
          .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TopicAuthorizationException.class);
    }
  }

  @Test
  void aWrongPasswordIsRefused() {
    try (KafkaProducer<String, String> p = producer(LocalKafkaBroker.scramClientSecurity("alice", "wrong"))) {
      assertThatThrownBy(() -> p.send(new ProducerRecord<>("allowed", "k", "v")).get())
          .hasRootCauseInstanceOf(SaslAuthenticationException.class);
    }
  }

  @Test
  void aClientWithoutCredentialsGetsNothing() {
    // A plaintext client on the SASL listener never completes a request: the send times out.
    try (KafkaProducer<String, String> p = producer(Map.of())) {
      assertThatThrownBy(() -> p.send(new ProducerRecord<>("allowed", "k", "v")).get())
          .hasRootCauseInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
    }
  }

  private static KafkaProducer<String, String> producer(Map<String, Object> security) {
    Map<String, Object> config = new HashMap<>(security);
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 5_000);
    config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 4_000);
    return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
  }
}
