package dev.reft.reward;

import dev.reft.schemas.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Producers and read_committed consumers for tests against a real broker. */
final class TestClients {

  private TestClients() {}

  static KafkaProducer<String, byte[]> rawProducer(String bootstrap) {
    return new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
  }

  /** "topic: end offsets per partition", to explain a failed expectation. */
  static String endOffsets(String bootstrap, String topic) {
    try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
        org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
      Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new java.util.HashMap<>();
      partitions.forEach(p -> latest.put(new org.apache.kafka.common.TopicPartition(topic, p.partition()),
          org.apache.kafka.clients.admin.OffsetSpec.latest()));
      var result = admin.listOffsets(latest).all().get();
      return topic + ": " + new java.util.TreeMap<>(result.entrySet().stream().collect(
          java.util.stream.Collectors.toMap(e -> e.getKey().partition(), e -> e.getValue().offset())));
    } catch (Exception e) {
      return topic + ": " + e;
    }
  }

  /**
   * Reads a topic from the beginning with {@code isolation.level=read_committed} until {@code done} holds
   * for what was read, or the timeout passes; returns what was read.
   */
  static <V> List<ConsumerRecord<String, V>> readUntil(String bootstrap, Topic<String, V> topic, String name,
      Duration timeout, Predicate<List<ConsumerRecord<String, V>>> done) {
    List<ConsumerRecord<String, V>> out = new ArrayList<>();
    try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "test-reader-" + System.nanoTime(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, System.getProperty("test.isolation", "read_committed"),
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
        topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
      consumer.subscribe(List.of(name));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!done.test(out) && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(250)).forEach(out::add);
      }
      // Drain what is already there, so that "too many" is visible too.
      for (int i = 0; i < 4; i++) {
        consumer.poll(Duration.ofMillis(250)).forEach(out::add);
      }
    }
    return out;
  }
}
