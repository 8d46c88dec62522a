package dev.reft.kafka.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalKafkaBrokerTest {

  @Test
  void keepsRecordsAcrossARestartOnTheSameLogDir(@TempDir Path dir) throws Exception {
    Path logDir = dir.resolve("data");
    try (LocalKafkaBroker broker = LocalKafkaBroker.builder().optLogDir(logDir).build().start()) {
      broker.createTopics(List.of(new NewTopic("kept", 2, (short) 1)));
      produce(broker, "kept", List.of("a", "b", "c"));
    }
    assertThat(logDir.resolve("meta.properties")).exists();
    try (LocalKafkaBroker broker = LocalKafkaBroker.builder().optLogDir(logDir).build().start()) {
      // Creating an existing topic again is a no-op, not an error.
      broker.createTopics(List.of(new NewTopic("kept", 2, (short) 1)));
      assertThat(consumeAll(broker, "kept", 3)).containsExactlyInAnyOrder("a", "b", "c");
    }
  }

  @Test
  void temporaryLogDirIsDeletedOnClose() {
    Path logDir;
    try (LocalKafkaBroker broker = LocalKafkaBroker.builder().build().start()) {
      logDir = broker.logDir();
      assertThat(Files.isDirectory(logDir)).isTrue();
    }
    assertThat(logDir).doesNotExist();
  }

  @Test
  void refusesATakenPortWithAClearMessage() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      LocalKafkaBroker broker = LocalKafkaBroker.builder().optPort(taken.getLocalPort()).build();
      assertThatThrownBy(broker::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("port " + taken.getLocalPort())
          .hasMessageContaining("already in use");
    }
  }

  static void produce(LocalKafkaBroker broker, String topic, List<String> values) throws Exception {
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
      for (String v : values) {
        producer.send(new ProducerRecord<>(topic, v, v)).get();
      }
    }
  }

  static List<String> consumeAll(LocalKafkaBroker broker, String topic, int expected) {
    List<String> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "test-" + topic,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
      }
    }
    return out;
  }
}
