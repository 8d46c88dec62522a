package dev.reft.sampler;

import dev.reft.schemas.AvroSerde;
import dev.reft.schemas.CheckpointPublished;
import dev.reft.schemas.DeadLetters;
import dev.reft.schemas.Topics;
import io.quarkus.logging.Log;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Follows {@code reft.checkpoints} (compacted; read from the beginning) and loads every newer version of this
 * sampler's run: verify the SHA-256 manifest, load next to the serving model, offer it to the {@link PolicyHolder}.
 * A checkpoint that fails verification is refused — logged, counted, never retried — and the newest version of the
 * same poll that does verify is loaded instead (a bogus event with a huge version must not hide the real newest
 * one: a sampler that starts without a model would wait for ever). Undecodable and refused events are dead-lettered
 * once per run (group {@code reft-sampler-<run>-checkpoint-dead-letters} remembers which); events of other runs are
 * none of this sampler's business and are ignored. If the watcher dies, {@code onDeath} runs (the service exits, to
 * be restarted): a sampler that no longer follows checkpoints would serve a stale policy for ever.
 */
final class CheckpointWatcher implements Runnable {

  private final Map<String, Object> client;
  private final String topic;
  private final String runId;
  private final Optional<Path> root;
  private final PolicyHolder holder;
  private final SamplerMetrics metrics;
  private final Set<String> refused = new HashSet<>();
  private final String deadLetterTopic;
  private final String deadLetterGroup;
  private final String instanceId;
  private final Runnable onDeath;
  private final Map<TopicPartition, Long> deadLetteredUpTo = new HashMap<>();
  private final AvroSerde<CheckpointPublished> serde = (AvroSerde<CheckpointPublished>) Topics.CHECKPOINTS.valueSerde();
  private volatile KafkaConsumer<String, byte[]> consumer;
  private volatile boolean running = true;

  /** @param client the service's Kafka client properties ({@link dev.reft.schemas.KafkaClientConfig}) */
  CheckpointWatcher(Map<String, Object> client, String topic, String deadLetterTopic, String runId, String instanceId,
      Optional<Path> root, PolicyHolder holder, SamplerMetrics metrics, Runnable onDeath) {
    this.deadLetterTopic = deadLetterTopic;
    this.deadLetterGroup = "reft-sampler-" + runId + "-checkpoint-dead-letters";
    this.instanceId = instanceId;
    this.onDeath = onDeath;
    this.client = Map.copyOf(client);
    this.topic = topic;
    this.runId = runId;
    this.root = root;
    this.holder = holder;
    this.metrics = metrics;
  }

  @Override
  public void run() {
    Map<String, Object> tx = new java.util.HashMap<>(client);
    tx.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, deadLetterGroup + "-" + instanceId);
    tx.put(ProducerConfig.CLIENT_ID_CONFIG, "sampler/" + instanceId + "-checkpoint-dead-letters");
    Map<String, Object> consumerConfig = consumerConfig(client, deadLetterGroup);
    consumerConfig.put(ConsumerConfig.CLIENT_ID_CONFIG, "sampler/" + instanceId + "-checkpoints");
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(consumerConfig,
        Topics.CHECKPOINTS.keySerde().deserializer(), new ByteArrayDeserializer());
        KafkaProducer<String, Object> producer = new KafkaProducer<>(tx,
            Topics.DEADLETTER.keySerde().serializer(), Topics.anyValueSerializer());
        var consumerMetrics = metrics.bind(c);
        var producerMetrics = metrics.bind(producer)) {
      consumer = c;
      producer.initTransactions();
      List<TopicPartition> partitions = c.partitionsFor(topic, Duration.ofSeconds(60)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      c.assign(partitions);
      c.committed(new HashSet<>(partitions), Duration.ofSeconds(60)).forEach((tp, o) -> {
        if (o != null) {
          deadLetteredUpTo.put(tp, o.offset());
        }
      });
      c.seekToBeginning(partitions);
      while (running) {
        // This run's events of the poll, newest version first: a refused one falls back to the next.
        TreeMap<Long, ConsumerRecord<String, byte[]>> candidates = new TreeMap<>(Comparator.reverseOrder());
        List<Letter> letters = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
          CheckpointPublished e;
          try {
            e = serde.decode(r.value());
          } catch (RuntimeException undecodable) {
            metrics.undecodableCheckpointEvents.increment();
            Log.warnf("skipping an undecodable checkpoint event at %s-%d offset %d: %s", r.topic(), r.partition(),
                r.offset(), undecodable.getMessage());
            letters.add(new Letter(r, DeadLetters.Stage.DESERIALIZATION, undecodable));
            continue;
          }
          if (e != null && runId.equals(e.getRunId()) && e.getVersion() > holder.newestVersion()) {
            candidates.put(e.getVersion(), r);
          }
        }
        for (ConsumerRecord<String, byte[]> r : candidates.values()) {
          Exception refusal = load(serde.decode(r.value()));
          if (refusal == null) {
            break;
          }
          letters.add(new Letter(r, DeadLetters.Stage.PROCESSING, refusal));
        }
        // In offset order: the group offset committed with each dead letter must only move forward.
        letters.sort(Comparator.comparingLong(l -> l.record().offset()));
        for (Letter l : letters) {
          deadLetter(producer, c, l.record(), l.stage(), l.error());
        }
      }
    } catch (WakeupException e) {
      // shutdown
    } catch (RuntimeException e) {
      Log.error("checkpoint watcher stopped", e);
    } finally {
      if (running) {
        onDeath.run();
      }
    }
  }

  /**
   * The watcher's consumer: the service's client properties, read_committed, from the beginning. Positions are the
   * watcher's own (it reads from the beginning); the group only remembers which records were dead-lettered already.
   */
  static Map<String, Object> consumerConfig(Map<String, Object> client, String group) {
    Map<String, Object> c = new java.util.HashMap<>(client);
    c.putAll(Map.of(
        ConsumerConfig.GROUP_ID_CONFIG, group,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"));
    return c;
  }

  /** An event to dead-letter. */
  private record Letter(ConsumerRecord<String, byte[]> record, DeadLetters.Stage stage, Exception error) {}

  /** Loads a checkpoint; returns why it was refused, or null when it loaded (or was refused before). */
  private Exception load(CheckpointPublished event) {
    String key = event.getVersion() + "@" + event.getSha256();
    if (refused.contains(key)) {
      return null;
    }
    long t0 = System.nanoTime();
    try {
      LoadedPolicy policy = LoadedPolicy.load(event, root);
      metrics.checkpointLoad.record(Duration.ofNanos(System.nanoTime() - t0));
      Log.infof("loaded policy version %d of run %s from %s in %d ms (%,d parameters)", event.getVersion(), runId,
          event.getUri(), (System.nanoTime() - t0) / 1_000_000, policy.model().parameterCount());
      holder.offer(policy);
      return null;
    } catch (Exception e) {
      refused.add(key);
      metrics.refused.increment();
      Log.errorf("REFUSED checkpoint version %d of run %s at %s: %s; still serving version %d", event.getVersion(),
          runId, event.getUri(), e.getMessage(), holder.servedVersion());
      return e;
    }
  }

  /**
   * Dead-letters an event this run's samplers cannot use, once: the dead letter and the group offset past the record
   * go in one transaction, and records below the group's committed offset were dead-lettered by an earlier start.
   */
  private void deadLetter(KafkaProducer<String, Object> producer, KafkaConsumer<String, byte[]> c,
      ConsumerRecord<String, byte[]> r, DeadLetters.Stage stage, Exception e) {
    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
    if (r.offset() < deadLetteredUpTo.getOrDefault(tp, 0L)) {
      return;
    }
    producer.beginTransaction();
    try {
      producer.send(new ProducerRecord<>(deadLetterTopic, r.key(), DeadLetters.of("sampler/" + instanceId, stage,
          r.topic(), r.partition(), r.offset(), r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8),
          r.value(), e)));
      producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(r.offset() + 1)),
          new ConsumerGroupMetadata(deadLetterGroup));
      producer.commitTransaction();
      deadLetteredUpTo.put(tp, r.offset() + 1);
      metrics.deadLetters.increment();
    } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException fatal) {
      throw fatal;
    } catch (KafkaException retry) {
      Log.warnf("could not dead-letter the checkpoint event at %s offset %d: %s", tp, r.offset(), retry.toString());
      producer.abortTransaction();
    }
  }

  void stop() {
    running = false;
    KafkaConsumer<String, byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }
}
