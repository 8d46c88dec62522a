package dev.reft.reward;

import dev.reft.kafka.local.TopicReader;
import dev.reft.schemas.Topic;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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

  /** Reads a catalog topic from the beginning, read_committed, until {@code done} holds or the timeout passes. */
  static <V> List<ConsumerRecord<String, V>> readUntil(String bootstrap, Topic<String, V> topic, String name,
      Duration timeout, Predicate<List<ConsumerRecord<String, V>>> done) {
    return TopicReader.readUntil(bootstrap, name, topic.keySerde().deserializer(), topic.valueSerde().deserializer(),
        timeout, done);
  }
}
