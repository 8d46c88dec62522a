package dev.reft.kafka.local;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads a topic the way a downstream service sees it: from the beginning, {@code read_committed}, in a
 * fresh consumer group. For tests and tools that check what a pipeline produced.
 */
public final class TopicReader {

  private TopicReader() {}

  /**
   * Reads every record present when called (read_committed, all partitions, no consumer group), in
   * partition order.
   */
  public static <K, V> List<ConsumerRecord<K, V>> readAll(String bootstrap, String topic, Deserializer<K> keys,
      Deserializer<V> values, Duration timeout) {
    return readAll(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), topic, keys, values, timeout);
  }

  /**
   * {@link #readAll(String, String, Deserializer, Deserializer, Duration)} with client properties: bootstrap
   * servers and any security settings ({@code security.protocol}, {@code sasl.*}, {@code ssl.*}).
   */
  public static <K, V> List<ConsumerRecord<K, V>> readAll(Map<String, Object> client, String topic, Deserializer<K> keys,
      Deserializer<V> values, Duration timeout) {
    List<ConsumerRecord<K, V>> out = new ArrayList<>();
    Map<String, Object> config = new java.util.HashMap<>(client);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(config, keys, values)) {
      List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
          .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<org.apache.kafka.common.TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(250)).forEach(out::add);
      }
    }
    return out;
  }

  /**
   * Reads until {@code done} holds for what was read or the timeout passes, then drains what is already
   * there (so that "too many" is visible too) and returns everything read.
   */
  public static <K, V> List<ConsumerRecord<K, V>> readUntil(String bootstrap, String topic,
      Deserializer<K> keys, Deserializer<V> values, Duration timeout, Predicate<List<ConsumerRecord<K, V>>> done) {
    return readUntil(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), topic, keys, values, timeout, done);
  }

  /** {@link #readUntil(String, String, Deserializer, Deserializer, Duration, Predicate)} with client properties. */
  public static <K, V> List<ConsumerRecord<K, V>> readUntil(Map<String, Object> client, String topic,
      Deserializer<K> keys, Deserializer<V> values, Duration timeout, Predicate<List<ConsumerRecord<K, V>>> done) {
    List<ConsumerRecord<K, V>> out = new ArrayList<>();
    Map<String, Object> config = new java.util.HashMap<>(client);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic + "-" + System.nanoTime());
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(config, keys, values)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!done.test(out) && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(250)).forEach(out::add);
      }
      for (int i = 0; i < 4; i++) {
        consumer.poll(Duration.ofMillis(250)).forEach(out::add);
      }
    }
    return out;
  }
}
