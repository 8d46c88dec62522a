package dev.reft.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class KafkaClientConfigTest {

  @Test
  void collectsEveryKafkaKeyWithoutThePrefix() {
    Map<String, String> config = new LinkedHashMap<>();
    config.put("kafka.bootstrap.servers", "k:9093");
    config.put("kafka.security.protocol", "SASL_SSL");
    config.put("kafka.sasl.mechanism", "SCRAM-SHA-512");
    config.put("kafka.ssl.truststore.location", "/etc/ca.crt");
    config.put("quarkus.kafka.devservices.enabled", "false");
    config.put("kafka-streams.num.stream.threads", "2");
    config.put("reft.learner.mode", "auto");
    assertThat(KafkaClientConfig.from(config)).containsExactlyInAnyOrderEntriesOf(Map.of(
        "bootstrap.servers", "k:9093",
        "security.protocol", "SASL_SSL",
        "sasl.mechanism", "SCRAM-SHA-512",
        "ssl.truststore.location", "/etc/ca.crt"));
  }

  @Test
  void environmentVariablesFollowTheQuarkusRule() {
    Map<String, String> env = Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "k:9093",
        "KAFKA_SASL_JAAS_CONFIG", "ScramLoginModule required username=\"u\" password=\"p\";",
        "KAFKA_STREAMS_NUM_STREAM_THREADS", "4",
        "PATH", "/bin",
        "kafka_lower_case", "x");
    assertThat(KafkaClientConfig.from(env)).containsExactlyInAnyOrderEntriesOf(Map.of(
        "bootstrap.servers", "k:9093",
        "sasl.jaas.config", "ScramLoginModule required username=\"u\" password=\"p\";"));
  }

  @Test
  void theLookupDecidesBetweenTheTwoSpellings() {
    // MicroProfile Config resolves kafka.security.protocol to the environment variable when both exist.
    Map<String, String> resolved = Map.of("kafka.security.protocol", "SASL_SSL");
    Map<String, Object> out = KafkaClientConfig.from(List.of("kafka.security.protocol", "KAFKA_SECURITY_PROTOCOL"),
        key -> Optional.ofNullable(resolved.get(key)));
    assertThat(out).containsExactly(Map.entry("security.protocol", "SASL_SSL"));
  }

  @Test
  void blankValuesAreLeftOut() {
    Properties p = new Properties();
    p.setProperty("kafka.sasl.jaas.config", " ");
    p.setProperty("kafka.bootstrap.servers", " b:1 ");
    assertThat(KafkaClientConfig.from(p)).containsExactly(Map.entry("bootstrap.servers", "b:1"));
  }

  @Test
  void secretsAreRedactedForLogs() {
    assertThat(KafkaClientConfig.redacted(Map.of("sasl.jaas.config", "secret", "ssl.truststore.password", "pw",
        "ssl.keystore.key", "k", "security.protocol", "SASL_SSL")))
        .containsExactlyInAnyOrderEntriesOf(Map.of("sasl.jaas.config", "***", "ssl.truststore.password", "***",
            "ssl.keystore.key", "***", "security.protocol", "SASL_SSL"));
  }
}
