package dev.reft.sampler;

import dev.reft.policy.ModelConfig;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.SamplingParams;
import dev.reft.schemas.AvroSerde;
import dev.reft.schemas.DeadLetter;
import dev.reft.schemas.DeadLetters;
import dev.reft.schemas.RolloutRequest;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Prompts;
import io.quarkus.logging.Log;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
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
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;

/**
 * The sampler's main loop: consume rollout requests, generate K chains of thought for each, publish them —
 * exactly once.
 *
 * <p><b>Exactly-once scheme: Kafka transactions.</b> Each poll's worth of requests is answered inside one
 * producer transaction that also carries the consumer offsets ({@code sendOffsetsToTransaction} with the
 * group's metadata, so a zombie from an older group generation is fenced). If the process dies, the open
 * transaction is aborted: its trajectories are invisible to {@code read_committed} readers (the reward
 * service) and the requests are consumed again. A request that cannot be decoded or served becomes a dead
 * letter in the same transaction.
 *
 * <p>Requests from several polls are not mixed: the poll is the unit of work, split into generation batches
 * of at most {@code batch-size} sequences (requests × K) that share sampling settings — and into at least
 * {@code parallelism} batches, which run at the same time on their own threads (with one intra-op thread each,
 * one core per batch). Their trajectories are sent in request order once all are generated.
 */
final class SamplingLoop implements Runnable {

  private final SamplerSettings settings;
  private final Map<String, Object> client;
  private final String requestsTopic;
  private final String sampledTopic;
  private final String deadLetterTopic;
  private final PolicyHolder holder;
  private final SamplerMetrics metrics;
  private final String samplerId;
  private volatile KafkaConsumer<String, RolloutRequest> consumer;
  private volatile boolean running = true;
  private volatile boolean alive = true;
  private final Runnable onDeath;
  /** The generation threads when {@code parallelism} > 1 (else batches run on the loop's thread). */
  private ExecutorService generators;

  /**
   * @param client the service's Kafka client properties ({@link dev.reft.schemas.KafkaClientConfig}): bootstrap
   *     servers and security; the loop's consumer and producer add their own settings on top
   * @param onDeath called when the loop stops on an error it cannot recover from
   */
  SamplingLoop(SamplerSettings settings, Map<String, Object> client, String requestsTopic, String sampledTopic,
      String deadLetterTopic, PolicyHolder holder, SamplerMetrics metrics, Runnable onDeath) {
    this.onDeath = onDeath;
    this.settings = settings;
    this.client = Map.copyOf(client);
    this.requestsTopic = requestsTopic;
    this.sampledTopic = sampledTopic;
    this.deadLetterTopic = deadLetterTopic;
    this.holder = holder;
    this.metrics = metrics;
    this.samplerId = "sampler/" + settings.instanceId();
  }

  boolean isAlive() {
    return alive;
  }

  void stop() {
    running = false;
    KafkaConsumer<String, RolloutRequest> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  @Override
  public void run() {
    try {
      while (running && holder.swapIfPending() == null) {
        Thread.sleep(100); // not ready: no model yet, so do not take requests
      }
      loop();
    } catch (InterruptedException | WakeupException e) {
      // shutdown
    } catch (RuntimeException e) {
      Log.error("the sampling loop stopped", e);
    } finally {
      alive = false;
      if (running) {
        onDeath.run();
      }
    }
  }

  /** The requests consumer's configuration: the service's client properties plus the loop's own. */
  static Map<String, Object> consumerConfig(Map<String, Object> client, SamplerSettings settings, String samplerId) {
    Map<String, Object> c = new HashMap<>(client);
    c.putAll(Map.of(
        ConsumerConfig.GROUP_ID_CONFIG, "reft-sampler-" + settings.runId(),
        ConsumerConfig.CLIENT_ID_CONFIG, samplerId + "-requests",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, settings.batchSize()),
        ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000));
    return c;
  }

  /**
   * The trajectories producer's configuration. Its transactional id is {@code reft-sampler-<run>-<instance>}: the
   * instance id must be stable across restarts of the same sampler (a StatefulSet pod name), so that a restarted
   * sampler fences the transaction its predecessor left open.
   */
  static Map<String, Object> producerConfig(Map<String, Object> client, SamplerSettings settings, String samplerId) {
    Map<String, Object> p = new HashMap<>(client);
    p.putAll(Map.of(
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "reft-sampler-" + settings.runId() + "-" + settings.instanceId(),
        ProducerConfig.CLIENT_ID_CONFIG, samplerId + "-trajectories",
        ProducerConfig.LINGER_MS_CONFIG, 5,
        ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"));
    return p;
  }

  private void loop() {
    if (settings.parallelism() > 1) {
      AtomicInteger n = new AtomicInteger();
      generators = Executors.newFixedThreadPool(settings.parallelism(), r -> {
        Thread t = new Thread(r, "reft-sampler-generation-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    }
    try {
      serve();
    } finally {
      if (generators != null) {
        generators.shutdownNow();
      }
    }
  }

  private void serve() {
    Map<String, Object> consumerConfig = consumerConfig(client, settings, samplerId);
    Map<String, Object> producerConfig = producerConfig(client, settings, samplerId);
    try (KafkaConsumer<String, RolloutRequest> c = new KafkaConsumer<>(consumerConfig,
            Topics.ROLLOUT_REQUESTS.keySerde().deserializer(), Topics.ROLLOUT_REQUESTS.valueSerde().deserializer());
        KafkaProducer<String, Object> producer = new KafkaProducer<>(producerConfig,
            Topics.TRAJECTORIES_SAMPLED.keySerde().serializer(), Topics.anyValueSerializer());
        var consumerMetrics = metrics.bind(c);
        var producerMetrics = metrics.bind(producer)) {
      consumer = c;
      producer.initTransactions();
      c.subscribe(List.of(requestsTopic));
      Log.infof("sampler %s serving run %s: %s -> %s", samplerId, settings.runId(), requestsTopic, sampledTopic);
      while (running) {
        ConsumerRecords<String, RolloutRequest> records;
        try {
          records = c.poll(settings.pollTimeout());
        } catch (RecordDeserializationException e) {
          deadLetterUndecodable(c, producer, e);
          continue;
        }
        updateQueueDepth(c);
        if (records.isEmpty()) {
          continue;
        }
        LoadedPolicy policy = awaitVersion(records);
        producer.beginTransaction();
        try {
          answer(records, policy, producer);
          producer.sendOffsetsToTransaction(nextOffsets(records), c.groupMetadata());
          producer.commitTransaction();
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
          throw e; // fatal for this producer: another instance took over its transactional id
        } catch (KafkaException | IllegalStateException e) {
          Log.warnf("aborting a transaction of %d requests, they will be served again: %s", records.count(), e.toString());
          producer.abortTransaction();
          rewind(c, records);
        }
      }
    }
  }

  /**
   * The policy to answer these requests with. A request carries the learner's version when it was issued; the
   * learner publishes that version's checkpoint before it asks, but the checkpoint watcher may not have loaded it
   * yet when the request arrives. Sampling with the older version then would only produce trajectories the
   * learner drops as too old (in lockstep, every one of them), so wait — up to {@code version-wait} — until the
   * newest version asked for is loaded.
   */
  private LoadedPolicy awaitVersion(ConsumerRecords<String, RolloutRequest> records) {
    long needed = -1;
    for (ConsumerRecord<String, RolloutRequest> r : records) {
      if (r.value() != null && settings.runId().equals(r.value().getRunId())) {
        needed = Math.max(needed, r.value().getPolicyVersion());
      }
    }
    LoadedPolicy policy = holder.swapIfPending();
    long deadline = System.nanoTime() + settings.versionWait().toNanos();
    while (policy.version() < needed && System.nanoTime() < deadline && running) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      policy = holder.swapIfPending();
    }
    if (policy.version() < needed) {
      Log.warnf("requests ask for policy version %d, the newest loaded is %d after waiting %s: sampling with it",
          needed, policy.version(), settings.versionWait());
    }
    return policy;
  }

  /** Generates and sends the trajectories (and dead letters) for one poll, inside the open transaction. */
  private void answer(ConsumerRecords<String, RolloutRequest> records, LoadedPolicy policy,
      KafkaProducer<String, Object> producer) {
    ModelConfig config = policy.model().config();
    Map<SamplingParams, List<Job>> bySettings = new LinkedHashMap<>();
    for (ConsumerRecord<String, RolloutRequest> r : records) {
      RolloutRequest req = r.value();
      if (req == null) {
        continue;
      }
      if (!settings.runId().equals(req.getRunId())) {
        metrics.ignored.increment();
        continue;
      }
      try {
        int[] prompt = promptIds(policy, req);
        int room = config.maxSeqLen() - prompt.length;
        if (req.getSamples() < 1 || req.getSamples() > 1024) {
          throw new IllegalArgumentException("samples must be 1..1024, got " + req.getSamples());
        }
        if (room < 1) {
          throw new IllegalArgumentException("prompt of " + prompt.length + " tokens leaves no room for an answer "
              + "within the model's " + config.maxSeqLen() + " positions");
        }
        int maxNew = Math.min(Math.min(req.getMaxNewTokens(), settings.maxNewTokensCap()), room);
        SamplingParams params = new SamplingParams(req.getTemperature(), req.getTopK(), req.getTopP(), maxNew);
        for (int k = 0; k < req.getSamples(); k++) {
          bySettings.computeIfAbsent(params, p -> new ArrayList<>()).add(new Job(r, k, prompt));
        }
      } catch (RuntimeException e) {
        producer.send(new ProducerRecord<>(deadLetterTopic, r.key(), deadLetter(r, DeadLetters.Stage.PROCESSING, e)));
        metrics.deadLetters.increment();
      }
    }
    List<Callable<Generated>> batches = new ArrayList<>();
    for (Map.Entry<SamplingParams, List<Job>> group : bySettings.entrySet()) {
      for (List<Job> jobs : batches(group.getValue(), settings.batchSize(), settings.parallelism())) {
        batches.add(() -> generate(jobs, group.getKey(), policy));
      }
    }
    for (Generated g : runAll(batches)) {
      publish(g, policy, producer);
    }
  }

  /**
   * Splits one sampling setting's sequences into generation batches: as few as {@code batchSize} allows, but at
   * least {@code parallelism} (when there are that many sequences), of near-equal size, so that every generation
   * thread gets a share. Order is kept; a sample's randomness does not depend on its batch.
   */
  static <T> List<List<T>> batches(List<T> jobs, int batchSize, int parallelism) {
    int n = jobs.size();
    int count = Math.max((n + batchSize - 1) / batchSize, Math.min(parallelism, n));
    List<List<T>> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(jobs.subList((int) ((long) n * i / count), (int) ((long) n * (i + 1) / count)));
    }
    return out;
  }

  /** Runs the generation batches, on the generation threads when there are several, and returns them in order. */
  private List<Generated> runAll(List<Callable<Generated>> batches) {
    try {
      List<Future<Generated>> futures = generators == null || batches.size() == 1
          ? batches.stream().map(b -> { // here, on the loop's thread
            FutureTask<Generated> task = new FutureTask<>(b);
            task.run();
            return (Future<Generated>) task;
          }).toList()
          : generators.invokeAll(batches); // waits for all; cancels the rest when interrupted
      List<Generated> out = new ArrayList<>(futures.size());
      for (Future<Generated> f : futures) {
        out.add(f.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WakeupException(); // shutting down: the open transaction is aborted, the requests served again
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    }
  }

  /** One generation batch's samples, in the order of its jobs, and how long generating them took. */
  private record Generated(List<Job> jobs, SamplingParams params, List<Sample> samples, long nanos) {}

  private static Generated generate(List<Job> jobs, SamplingParams params, LoadedPolicy policy) {
    List<int[]> prompts = new ArrayList<>(jobs.size());
    Rng[] rngs = new Rng[jobs.size()];
    for (int i = 0; i < jobs.size(); i++) {
      Job j = jobs.get(i);
      prompts.add(j.prompt());
      // One stream per (request seed, sample index): a sample does not depend on what shares its batch.
      rngs[i] = Rng.stream(j.record().value().getSeed(), j.sampleIndex());
    }
    long t0 = System.nanoTime();
    List<Sample> samples = policy.sampler().generate(prompts, params, rngs);
    return new Generated(jobs, params, samples, System.nanoTime() - t0);
  }

  /** Sends one batch's trajectories inside the open transaction. */
  private void publish(Generated g, LoadedPolicy policy, KafkaProducer<String, Object> producer) {
    List<Job> jobs = g.jobs();
    List<Sample> samples = g.samples();
    SamplingParams params = g.params();
    long nanos = g.nanos();
    long tokens = 0;
    Instant now = Instant.now();
    for (int i = 0; i < jobs.size(); i++) {
      Job j = jobs.get(i);
      Sample s = samples.get(i);
      tokens += s.length();
      RolloutRequest req = j.record().value();
      SampledTrajectory t = SampledTrajectory.newBuilder()
          .setRunId(req.getRunId())
          .setRequestId(req.getRequestId())
          .setSampleIndex(j.sampleIndex())
          .setProblemId(req.getProblemId())
          .setDataset(req.getDataset())
          .setQuestion(req.getQuestion())
          .setGoldAnswer(req.getGoldAnswer())
          .setStyle(req.getStyle())
          .setPromptTokenIds(boxed(j.prompt()))
          .setResponseTokenIds(boxed(s.tokens()))
          .setResponseText(policy.tokenizer().decode(s.tokens()))
          .setBehaviourLogprobs(boxed(s.logProbs()))
          .setFinishReason(dev.reft.schemas.FinishReason.valueOf(s.finishReason().name()))
          .setPolicyVersion(policy.version())
          .setTemperature((float) params.temperature())
          .setSamplerId(samplerId)
          .setRequestCreatedAt(req.getCreatedAt())
          .setSamplingMillis(nanos / 1_000_000)
          .setCreatedAt(now)
          .build();
      producer.send(new ProducerRecord<>(sampledTopic, j.record().key(), t));
    }
    metrics.onBatch(jobs.size(), settings.batchSize(), tokens, nanos);
  }

  /** BOS + the task's prompt for the request's style. */
  private static int[] promptIds(LoadedPolicy policy, RolloutRequest req) {
    return policy.tokenizer().encodePrompt(Prompts.prompt(req.getStyle(), req.getQuestion()));
  }

  /** A record whose bytes do not decode: dead-letter it with its bytes and move past it, in one transaction. */
  private void deadLetterUndecodable(KafkaConsumer<String, RolloutRequest> c, KafkaProducer<String, Object> producer,
      RecordDeserializationException e) {
    TopicPartition tp = e.topicPartition();
    Log.warnf("dead-lettering an undecodable request at %s offset %d: %s", tp, e.offset(), e.getMessage());
    DeadLetter d = DeadLetters.of(samplerId, DeadLetters.Stage.DESERIALIZATION, tp.topic(), tp.partition(), e.offset(),
        bytes(e.keyBuffer()), bytes(e.valueBuffer()), e.getCause() == null ? e : e.getCause());
    producer.beginTransaction();
    try {
      producer.send(new ProducerRecord<>(deadLetterTopic, key(e.keyBuffer()), d));
      producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(e.offset() + 1)), c.groupMetadata());
      producer.commitTransaction();
      metrics.deadLetters.increment();
      c.seek(tp, e.offset() + 1);
    } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException fatal) {
      throw fatal;
    } catch (KafkaException retry) {
      producer.abortTransaction();
      c.seek(tp, e.offset());
    }
  }

  private DeadLetter deadLetter(ConsumerRecord<String, RolloutRequest> r, DeadLetters.Stage stage, Exception e) {
    AvroSerde<RolloutRequest> serde = (AvroSerde<RolloutRequest>) Topics.ROLLOUT_REQUESTS.valueSerde();
    return DeadLetters.of(samplerId, stage, r.topic(), r.partition(), r.offset(),
        r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8), serde.encode(r.value()), e);
  }

  private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<String, RolloutRequest> records) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition tp : records.partitions()) {
      List<ConsumerRecord<String, RolloutRequest>> rs = records.records(tp);
      offsets.put(tp, new OffsetAndMetadata(rs.get(rs.size() - 1).offset() + 1));
    }
    return offsets;
  }

  /** After an aborted transaction: read the same requests again. */
  private static void rewind(KafkaConsumer<String, RolloutRequest> c, ConsumerRecords<String, RolloutRequest> records) {
    Set<TopicPartition> assigned = c.assignment();
    for (TopicPartition tp : records.partitions()) {
      if (assigned.contains(tp)) {
        c.seek(tp, records.records(tp).get(0).offset());
      }
    }
  }

  private void updateQueueDepth(KafkaConsumer<String, RolloutRequest> c) {
    long depth = 0;
    for (TopicPartition tp : c.assignment()) {
      depth += c.currentLag(tp).orElse(0L);
    }
    metrics.queueDepth(depth);
  }

  private static List<Integer> boxed(int[] values) {
    List<Integer> out = new ArrayList<>(values.length);
    for (int v : values) {
      out.add(v);
    }
    return out;
  }

  private static List<Float> boxed(float[] values) {
    List<Float> out = new ArrayList<>(values.length);
    for (float v : values) {
      out.add(v);
    }
    return out;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    if (buffer == null) {
      return null;
    }
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static String key(ByteBuffer buffer) {
    byte[] b = bytes(buffer);
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  /** One sequence to generate: a request and which of its K samples. */
  private record Job(ConsumerRecord<String, RolloutRequest> record, int sampleIndex, int[] prompt) {}
}
