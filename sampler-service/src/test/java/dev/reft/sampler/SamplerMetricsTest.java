package dev.reft.sampler;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The sampler's metrics without a broker: the dashboard's counters exist at zero from start-up, and a Kafka client's
 * own metrics (the consumer lag of the dashboard's lag panel) are published while it is bound and removed when the
 * binder closes. Creating a client does not connect, so none is needed.
 */
class SamplerMetricsTest {

  @Test
  void countersStartAtZero() {
    MeterRegistry registry = new SimpleMeterRegistry();
    new SamplerMetrics(registry, new PolicyHolder());
    for (String name : List.of("reft_sampler_deadletters_total", "reft_sampler_tokens_total",
        "reft_sampler_trajectories_total", "reft_sampler_checkpoints_refused_total")) {
      assertThat(registry.get(name).counter().count()).as(name).isZero();
    }
  }

  @Test
  void kafkaClientMetricsAreBoundUntilTheBinderCloses() {
    MeterRegistry registry = new SimpleMeterRegistry();
    SamplerMetrics metrics = new SamplerMetrics(registry, new PolicyHolder());
    Map<String, Object> consumerConfig = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1",
        ConsumerConfig.CLIENT_ID_CONFIG, "sampler/test-requests", ConsumerConfig.GROUP_ID_CONFIG, "g");
    Map<String, Object> producerConfig = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1",
        ProducerConfig.CLIENT_ID_CONFIG, "sampler/test-trajectories");
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
            new StringDeserializer());
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(),
            new ByteArraySerializer())) {
      var consumerMetrics = metrics.bind(consumer);
      var producerMetrics = metrics.bind(producer);
      assertThat(registry.find("kafka.consumer.fetch.manager.records.lag.max").tag("client.id", "sampler/test-requests")
          .gauges()).as("the consumer's lag").isNotEmpty();
      assertThat(registry.find("kafka.producer.record.send.total").tag("client.id", "sampler/test-trajectories")
          .meters()).as("the producer's sends").isNotEmpty();
      consumerMetrics.close();
      producerMetrics.close();
      assertThat(registry.getMeters().stream().map(Meter::getId).map(Meter.Id::getName))
          .as("no Kafka meter is left after the binders closed")
          .noneMatch(name -> name.startsWith("kafka."));
    }
  }
}
