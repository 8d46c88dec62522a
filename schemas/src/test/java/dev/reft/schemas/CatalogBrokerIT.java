package dev.reft.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.WithKafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every record type through a real broker with the catalog's own topics and serdes. */
@WithKafkaBroker
class CatalogBrokerIT {

  @BeforeAll
  static void createTopics(LocalKafkaBroker broker) {
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
  }

  @Test
  void everyRecordTypeRoundTripsThroughTheBroker(LocalKafkaBroker broker) throws Exception {
    assertThat(roundTrip(broker, Topics.ROLLOUT_REQUESTS, "svamp_0", SampleRecords.request()))
        .isEqualTo(SampleRecords.request());
    assertThat(roundTrip(broker, Topics.TRAJECTORIES_SAMPLED, "svamp_0", SampleRecords.sampled()))
        .isEqualTo(SampleRecords.sampled());
    assertThat(roundTrip(broker, Topics.TRAJECTORIES_REWARDED, "svamp_0", SampleRecords.rewarded()))
        .isEqualTo(SampleRecords.rewarded());
    assertThat(roundTrip(broker, Topics.CHECKPOINTS, "run-1", SampleRecords.checkpoint()))
        .isEqualTo(SampleRecords.checkpoint());
    assertThat(roundTrip(broker, Topics.DEADLETTER, "k", SampleRecords.deadLetter()))
        .isEqualTo(SampleRecords.deadLetter());
    assertThat(roundTrip(broker, Topics.REWARD_STATS, "run-1/3", SampleRecords.rewardStats()))
        .isEqualTo(SampleRecords.rewardStats());
    assertThat(roundTrip(broker, Topics.EVAL, "run-1", SampleRecords.eval())).isEqualTo(SampleRecords.eval());
    assertThat(roundTrip(broker, Topics.LEARNER_UPDATES, "run-1", SampleRecords.learnerUpdate()))
        .isEqualTo(SampleRecords.learnerUpdate());
  }

  @Test
  void garbageOnATopicFailsWithTheTypedDecodeErrorAndItsPosition(LocalKafkaBroker broker) throws Exception {
    String topic = Topics.TRAJECTORIES_SAMPLED.defaultName();
    long poisonOffset;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      poisonOffset = producer.send(
          new ProducerRecord<>(topic, 3, "poison".getBytes(), new byte[] {0x42, 0x42, 0x42})).get().offset();
    }
    try (KafkaConsumer<String, SampledTrajectory> consumer = consumer(broker, Topics.TRAJECTORIES_SAMPLED)) {
      TopicPartition tp = new TopicPartition(topic, 3);
      consumer.assign(List.of(tp));
      consumer.seek(tp, poisonOffset);
      RecordDeserializationException failure = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (failure == null && System.nanoTime() < deadline) {
        try {
          consumer.poll(Duration.ofMillis(200));
        } catch (RecordDeserializationException e) {
          failure = e;
        }
      }
      assertThat(failure).as("the poison pill must surface as a deserialization failure").isNotNull();
      assertThat(failure.topicPartition()).isEqualTo(tp);
      assertThat(failure.offset()).isEqualTo(poisonOffset);
      assertThat(failure.getCause()).isInstanceOfSatisfying(RecordDecodeException.class,
          e -> assertThat(e.reason()).isEqualTo(RecordDecodeException.Reason.BAD_HEADER));
      assertThat(failure.valueBuffer()).as("the raw bytes are at hand for a dead letter").isNotNull();
    }
  }

  private static <V> V roundTrip(LocalKafkaBroker broker, Topic<String, V> topic, String key, V value)
      throws Exception {
    try (KafkaProducer<String, V> producer = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
        topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(topic.defaultName(), key, value)).get();
    }
    try (KafkaConsumer<String, V> consumer = consumer(broker, topic)) {
      consumer.subscribe(List.of(topic.defaultName()));
      List<ConsumerRecord<String, V>> got = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (got.isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(got::add);
      }
      assertThat(got).hasSize(1);
      assertThat(got.get(0).key()).isEqualTo(key);
      return got.get(0).value();
    }
  }

  private static <V> KafkaConsumer<String, V> consumer(LocalKafkaBroker broker, Topic<String, V> topic) {
    return new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "it-" + topic.id(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
        topic.keySerde().deserializer(), topic.valueSerde().deserializer());
  }
}
