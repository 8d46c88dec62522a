package dev.reft.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.KafkaClientConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class KafkaClientOptionsTest {

  @CommandLine.Command(name = "t")
  static final class Cmd implements Runnable {
    @CommandLine.Option(names = "--bootstrap")
    String bootstrap;

    @CommandLine.Mixin
    KafkaClientOptions kafka = new KafkaClientOptions();

    @Override
    public void run() {}
  }

  @Test
  void aKafkaConfigFileWithOrWithoutThePrefixReachesTheClients(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, """
        security.protocol=SASL_SSL
        kafka.sasl.mechanism=SCRAM-SHA-512
        sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";
        bootstrap.servers=from-file:9093
        """);
    Cmd cmd = new Cmd();
    new CommandLine(cmd).parseArgs("--bootstrap", "cli:9093", "--kafka-config", file.toString());
    Map<String, Object> client = cmd.kafka.client(cmd.bootstrap);
    assertThat(client).containsEntry("bootstrap.servers", "cli:9093")
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry("sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";");
  }

  @Test
  void systemPropertiesCountAndTheFileWins(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("c.properties");
    Files.writeString(file, "sasl.mechanism=PLAIN\n");
    System.setProperty("kafka.sasl.mechanism", "SCRAM-SHA-256");
    System.setProperty("kafka.ssl.truststore.type", "PEM");
    try {
      Cmd cmd = new Cmd();
      new CommandLine(cmd).parseArgs("--kafka-config", file.toString());
      assertThat(cmd.kafka.client("b:1")).containsEntry("sasl.mechanism", "PLAIN")
          .containsEntry("ssl.truststore.type", "PEM").containsEntry("bootstrap.servers", "b:1");
    } finally {
      System.clearProperty("kafka.sasl.mechanism");
      System.clearProperty("kafka.ssl.truststore.type");
    }
  }

  @Test
  void servicesReceiveTheSameSettingsAsEnvironmentVariables() {
    Map<String, Object> client = Map.of("bootstrap.servers", "b:1", "security.protocol", "SASL_PLAINTEXT",
        "sasl.jaas.config", "x required;", "ssl.truststore.location", "/ca.crt");
    Map<String, String> env = KafkaClientOptions.asEnvironment(client);
    assertThat(env).containsEntry("KAFKA_SASL_JAAS_CONFIG", "x required;");
    // What a service's KafkaClientConfig reads back from its environment.
    assertThat(KafkaClientConfig.from(env)).isEqualTo(client);
  }
}
