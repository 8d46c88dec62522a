package dev.reft.sampler;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.TopicReader;
import dev.reft.schemas.Topic;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Reads a catalog topic as the reward service would (read_committed). */
final class TestReader {

  private TestReader() {}

  static <V> List<ConsumerRecord<String, V>> read(LocalKafkaBroker broker, Topic<String, V> topic, Duration timeout,
      Predicate<List<ConsumerRecord<String, V>>> done) {
    return TopicReader.readUntil(broker.bootstrapServers(), topic.defaultName(), topic.keySerde().deserializer(),
        topic.valueSerde().deserializer(), timeout, done);
  }
}
