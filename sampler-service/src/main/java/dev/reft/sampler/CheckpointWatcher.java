package dev.reft.sampler;

import dev.reft.schemas.CheckpointPublished;
import dev.reft.schemas.Topics;
import io.quarkus.logging.Log;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Follows {@code reft.checkpoints} (compacted; read from the beginning, no consumer group) and loads every
 * newer version of this sampler's run: verify the SHA-256 manifest, load next to the serving model, offer
 * it to the {@link PolicyHolder}. A checkpoint that fails verification is refused — logged, counted, never
 * retried — and the current model keeps serving.
 */
final class CheckpointWatcher implements Runnable {

  private final Map<String, Object> client;
  private final String topic;
  private final String runId;
  private final Optional<Path> root;
  private final PolicyHolder holder;
  private final SamplerMetrics metrics;
  private final Set<String> refused = new HashSet<>();
  private volatile KafkaConsumer<String, CheckpointPublished> consumer;
  private volatile boolean running = true;

  /** @param client the service's Kafka client properties ({@link dev.reft.schemas.KafkaClientConfig}) */
  CheckpointWatcher(Map<String, Object> client, String topic, String runId, Optional<Path> root, PolicyHolder holder,
      SamplerMetrics metrics) {
    this.client = Map.copyOf(client);
    this.topic = topic;
    this.runId = runId;
    this.root = root;
    this.holder = holder;
    this.metrics = metrics;
  }

  @Override
  public void run() {
    try (KafkaConsumer<String, CheckpointPublished> c = new KafkaConsumer<>(consumerConfig(client),
        Topics.CHECKPOINTS.keySerde().deserializer(), Topics.CHECKPOINTS.valueSerde().deserializer())) {
      consumer = c;
      List<TopicPartition> partitions = c.partitionsFor(topic, Duration.ofSeconds(60)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      c.assign(partitions);
      c.seekToBeginning(partitions);
      while (running) {
        CheckpointPublished newest = null;
        try {
          for (ConsumerRecord<String, CheckpointPublished> r : c.poll(Duration.ofMillis(500))) {
            CheckpointPublished e = r.value();
            if (e != null && runId.equals(e.getRunId()) && (newest == null || e.getVersion() > newest.getVersion())) {
              newest = e;
            }
          }
        } catch (RecordDeserializationException e) {
          Log.warnf("skipping an undecodable checkpoint event at %s offset %d: %s", e.topicPartition(), e.offset(),
              e.getMessage());
          c.seek(e.topicPartition(), e.offset() + 1);
          continue;
        }
        if (newest != null && newest.getVersion() > holder.newestVersion()) {
          load(newest);
        }
      }
    } catch (WakeupException e) {
      // shutdown
    } catch (RuntimeException e) {
      Log.error("checkpoint watcher stopped", e);
    }
  }

  /** The watcher's consumer: the service's client properties, read_committed, no group, from the beginning. */
  static Map<String, Object> consumerConfig(Map<String, Object> client) {
    Map<String, Object> c = new java.util.HashMap<>(client);
    c.putAll(Map.of(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"));
    return c;
  }

  private void load(CheckpointPublished event) {
    String key = event.getVersion() + "@" + event.getSha256();
    if (refused.contains(key)) {
      return;
    }
    long t0 = System.nanoTime();
    try {
      LoadedPolicy policy = LoadedPolicy.load(event, root);
      metrics.checkpointLoad.record(Duration.ofNanos(System.nanoTime() - t0));
      Log.infof("loaded policy version %d of run %s from %s in %d ms (%,d parameters)", event.getVersion(), runId,
          event.getUri(), (System.nanoTime() - t0) / 1_000_000, policy.model().parameterCount());
      holder.offer(policy);
    } catch (Exception e) {
      refused.add(key);
      metrics.refused.increment();
      Log.errorf("REFUSED checkpoint version %d of run %s at %s: %s; still serving version %d", event.getVersion(),
          runId, event.getUri(), e.getMessage(), holder.servedVersion());
    }
  }

  void stop() {
    running = false;
    KafkaConsumer<String, CheckpointPublished> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }
}
