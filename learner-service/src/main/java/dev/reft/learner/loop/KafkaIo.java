package dev.reft.learner.loop;

import dev.reft.schemas.CheckpointPublished;
import dev.reft.schemas.DeadLetter;
import dev.reft.schemas.EvalResult;
import dev.reft.schemas.KafkaClientConfig;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.RolloutRequest;
import dev.reft.schemas.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The learner's Kafka clients, all named from the catalog:
 *
 * <ul>
 *   <li>a transactional producer: each checkpoint event is published in one transaction with the consumed
 *       offsets of {@code reft.trajectories.rewarded} (committed for group {@code reft-learner-<run>}) and the dead
 *       letters of the records consumed since the previous checkpoint;
 *   <li>an idempotent producer for rollout requests, per-update diagnostics and evaluations;
 *   <li>consumers created on demand for the rewarded and requests topics (positions come from checkpoints).
 * </ul>
 *
 * <p>Every client starts from the service's Kafka client properties ({@link KafkaClientConfig}: bootstrap servers,
 * security protocol, SASL, TLS from {@code kafka.*} configuration) and adds its own settings on top. Each client's own
 * metrics ({@code kafka_producer_*}, {@code kafka_consumer_*}: send rates, the consumer lag of the dashboard's lag
 * panel) are published at {@code /q/metrics} while it is open (Micrometer's binder: Quarkus binds only the clients
 * it creates itself).
 */
public final class KafkaIo implements AutoCloseable {

  final Map<String, Object> client;
  final String runId;
  final String requestsTopic;
  final String rewardedTopic;
  final String checkpointsTopic;
  final String updatesTopic;
  final String evalTopic;
  final String groupId;
  final String deadLetterTopic;
  /** Update, evaluation and dead-letter records of the rollout loop, published with the next checkpoint. */
  private final List<ProducerRecord<String, Object>> pendingRecords = new java.util.ArrayList<>();
  private final org.apache.kafka.clients.admin.Admin admin;
  private final KafkaProducer<String, Object> transactional;
  private final KafkaProducer<String, Object> plain;
  private final MeterRegistry registry;
  private final KafkaClientMetrics transactionalMetrics;
  private final KafkaClientMetrics plainMetrics;

  /**
   * @param client the Kafka client properties of the service ({@link KafkaClientConfig#from}); must include
   *     {@code bootstrap.servers}
   * @param runId the run
   * @param config the service's configuration, for topic names ({@code reft.topics.*})
   * @param registry where the clients' own metrics are published
   */
  public KafkaIo(Map<String, Object> client, String runId, Function<String, Optional<String>> config,
      MeterRegistry registry) {
    if (!client.containsKey(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
      throw new IllegalArgumentException("no kafka.bootstrap.servers in the configuration");
    }
    this.client = Map.copyOf(client);
    this.runId = runId;
    this.registry = registry;
    this.requestsTopic = Topics.ROLLOUT_REQUESTS.name(config);
    this.rewardedTopic = Topics.TRAJECTORIES_REWARDED.name(config);
    this.checkpointsTopic = Topics.CHECKPOINTS.name(config);
    this.updatesTopic = Topics.LEARNER_UPDATES.name(config);
    this.evalTopic = Topics.EVAL.name(config);
    this.groupId = "reft-learner-" + runId;
    this.deadLetterTopic = Topics.DEADLETTER.name(config);
    Map<String, Object> tx = new HashMap<>(client);
    tx.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "reft-learner-" + runId);
    tx.put(ProducerConfig.CLIENT_ID_CONFIG, "learner-" + runId + "-checkpoints");
    transactional = new KafkaProducer<>(tx, Topics.CHECKPOINTS.keySerde().serializer(), Topics.anyValueSerializer());
    transactional.initTransactions();
    Map<String, Object> p = new HashMap<>(client);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "learner-" + runId);
    plain = new KafkaProducer<>(p, Topics.ROLLOUT_REQUESTS.keySerde().serializer(), Topics.anyValueSerializer());
    admin = org.apache.kafka.clients.admin.Admin.create(client);
    transactionalMetrics = new KafkaClientMetrics(transactional);
    transactionalMetrics.bindTo(registry);
    plainMetrics = new KafkaClientMetrics(plain);
    plainMetrics.bindTo(registry);
  }

  /**
   * Publishes a consumer's own metrics until the returned binder is closed; close it before the consumer (declare it
   * after the consumer in the same try-with-resources), so that a closed consumer leaves no stale series.
   */
  KafkaClientMetrics meter(KafkaConsumer<?, ?> consumer) {
    KafkaClientMetrics m = new KafkaClientMetrics(consumer);
    m.bindTo(registry);
    return m;
  }

  /** The current end offset of every partition of the requests topic. */
  Map<Integer, Long> requestEndOffsets() {
    try {
      var partitions = admin.describeTopics(List.of(requestsTopic)).allTopicNames().get().get(requestsTopic).partitions();
      Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
      partitions.forEach(p -> latest.put(new TopicPartition(requestsTopic, p.partition()),
          org.apache.kafka.clients.admin.OffsetSpec.latest()));
      Map<Integer, Long> out = new java.util.TreeMap<>();
      admin.listOffsets(latest).all().get().forEach((tp, info) -> out.put(tp.partition(), info.offset()));
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("cannot read the end offsets of " + requestsTopic + ": " + e.getCause(), e);
    }
  }

  /** Sends a rollout request (keyed by problem id). */
  void sendRequest(RolloutRequest request) {
    plain.send(new ProducerRecord<>(requestsTopic, request.getProblemId(), request));
  }

  /** Waits until every request sent so far is acknowledged. */
  void flushRequests() {
    plain.flush();
  }

  /** Sends an update record now (modes outside the rollout loop: warm-up epochs, Offline-ST). */
  public void sendUpdate(LearnerUpdate update) {
    plain.send(new ProducerRecord<>(updatesTopic, runId, update));
  }

  /** Sends an evaluation now (modes outside the rollout loop, and the final evaluation). */
  public void sendEval(EvalResult result) {
    plain.send(new ProducerRecord<>(evalTopic, runId, result));
    plain.flush();
  }

  /**
   * Queues a rollout update's record for the next checkpoint's transaction. A version's update and evaluation
   * records then become visible together with its checkpoint and offsets, or not at all: a learner killed after
   * an update and before its checkpoint redoes that update on resume and writes its records then, so every
   * version has exactly one update record.
   */
  public void queueUpdate(LearnerUpdate update) {
    pendingRecords.add(new ProducerRecord<>(updatesTopic, runId, update));
  }

  /** Queues an evaluation of the rollout loop for the next checkpoint's transaction, as {@link #queueUpdate}. */
  public void queueEval(EvalResult result) {
    pendingRecords.add(new ProducerRecord<>(evalTopic, runId, result));
  }

  /**
   * Queues a dead letter for a record read from the rewarded topic. It is published with the next checkpoint, in the
   * transaction that commits the offsets past that record: a learner that crashes before then reads the record again
   * on resume and dead-letters it again, so each record is dead-lettered exactly once per run.
   */
  void deadLetter(String key, DeadLetter letter) {
    pendingRecords.add(new ProducerRecord<>(deadLetterTopic, key, letter));
  }

  /**
   * Publishes a checkpoint event, the queued update, evaluation and dead-letter records and the consumed offsets in
   * one transaction.
   *
   * @param offsets next offset per rewarded partition (empty for the warm-up)
   */
  public void publishCheckpoint(CheckpointPublished event, Map<Integer, Long> offsets) {
    transactional.beginTransaction();
    try {
      transactional.send(new ProducerRecord<>(checkpointsTopic, runId, event));
      pendingRecords.forEach(transactional::send);
      if (!offsets.isEmpty()) {
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        offsets.forEach((p, o) -> commit.put(new TopicPartition(rewardedTopic, p), new OffsetAndMetadata(o)));
        transactional.sendOffsetsToTransaction(commit, new ConsumerGroupMetadata(groupId));
      }
      transactional.commitTransaction();
      pendingRecords.clear();
    } catch (RuntimeException e) {
      transactional.abortTransaction();
      throw e;
    }
  }

  /** A consumer of raw bytes with no group (positions are set by the caller), read_committed. */
  KafkaConsumer<byte[], byte[]> rawConsumer(String clientId) {
    Map<String, Object> c = new HashMap<>(client);
    c.putAll(Map.of(
        ConsumerConfig.CLIENT_ID_CONFIG, clientId,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 256));
    return new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** The partitions of a topic. */
  static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
    return consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
        .map(p -> new TopicPartition(topic, p.partition())).sorted(java.util.Comparator.comparingInt(TopicPartition::partition))
        .toList();
  }

  @Override
  public void close() {
    plainMetrics.close();
    transactionalMetrics.close();
    admin.close(Duration.ofSeconds(10));
    plain.close(Duration.ofSeconds(10));
    transactional.close(Duration.ofSeconds(10));
  }
}
