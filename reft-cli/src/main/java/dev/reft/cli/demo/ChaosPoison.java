package dev.reft.cli.demo;

import dev.reft.kafka.local.TopicReader;
import dev.reft.schemas.AvroSerde;
import dev.reft.schemas.CheckpointPublished;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.FinishReason;
import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.RolloutRequest;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The poison {@code reft chaos} publishes on every input topic, and what each kind must lead to.
 *
 * <p>On every topic: random bytes, an Avro single-object header with a fingerprint no schema has, and a valid record
 * cut in half — each must be dead-lettered by the service that reads the topic. Then records that decode but are
 * impossible:
 *
 * <ul>
 *   <li>{@code reft.rollout.requests} (samplers): K = -4, a NaN temperature, a 1 MB question — dead-lettered; a
 *       request of an unknown run — ignored (samplers serve one run; runs share topics), so nothing is sampled for it;
 *   <li>{@code reft.trajectories.sampled} (reward service): NaN and −∞ log-probs, 3 log-probs for 4 tokens, a
 *       negative sample index, a 1 MB response text — dead-lettered; a trajectory of an unknown run and one of a
 *       policy version from the future — graded (grading does not depend on either; the learner is the one to
 *       refuse the second); a P-CoT program that never returns — graded TIMEOUT by the sandbox;
 *   <li>{@code reft.trajectories.rewarded} (learner), each answering a real request of the run: NaN and +∞
 *       log-probs, mismatched lengths, a sample index beyond K, a token id outside the vocabulary, a version from
 *       the future, a NaN reward — dead-lettered; one of an unknown run — ignored;
 *   <li>{@code reft.checkpoints} (samplers): an event of the run with a huge version and a wrong SHA-256, and one
 *       whose directory does not exist — refused and dead-lettered (the real newest version still loads); an event
 *       of an unknown run — ignored.
 * </ul>
 */
final class ChaosPoison {

  /** What a poison record must lead to. */
  enum Expect {
    /** Exactly one dead letter naming its topic, partition and offset. */
    DEAD_LETTER,
    /** No effect at all: nothing sampled or graded for it, no dead letter. */
    IGNORED,
    /** Graded exactly once (one rewarded record with its request id). */
    GRADED,
    /** Graded exactly once, with outcome TIMEOUT. */
    GRADED_TIMEOUT
  }

  /** One poison record as published. */
  record Published(String topic, String kind, Expect expect, int partition, long offset, String requestId) {}

  /** Request ids of poison records start with this. */
  static final String ID_PREFIX = "chaos-poison-";

  private static final AvroSerde<RolloutRequest> REQUESTS = (AvroSerde<RolloutRequest>) Topics.ROLLOUT_REQUESTS.valueSerde();
  private static final AvroSerde<SampledTrajectory> SAMPLED =
      (AvroSerde<SampledTrajectory>) Topics.TRAJECTORIES_SAMPLED.valueSerde();
  private static final AvroSerde<RewardedTrajectory> REWARDED =
      (AvroSerde<RewardedTrajectory>) Topics.TRAJECTORIES_REWARDED.valueSerde();
  private static final AvroSerde<CheckpointPublished> CHECKPOINTS =
      (AvroSerde<CheckpointPublished>) Topics.CHECKPOINTS.valueSerde();

  private final Map<String, Object> client;
  private final String runId;
  private final String otherRun;
  private final Random rng;
  private final String realCheckpointUri;
  private final List<Published> published = new ArrayList<>();
  private int seq;

  /**
   * @param realCheckpointUri a real checkpoint of the run (the SHA-256 poison names it with a wrong hash)
   */
  ChaosPoison(Map<String, Object> client, String runId, Random rng, String realCheckpointUri) {
    this.client = Map.copyOf(client);
    this.runId = runId;
    this.otherRun = "chaos-nobody-" + Long.toString(rng.nextLong() & 0xffffff, 36);
    this.rng = rng;
    this.realCheckpointUri = realCheckpointUri;
  }

  /** Publishes {@code perKind} records of every kind on every input topic; returns them. */
  List<Published> publish(int perKind) {
    List<String> realRequests = latestRequestIds(8);
    Map<String, Object> config = new java.util.HashMap<>(client);
    config.putAll(Map.of(
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_048_576));
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(),
        new ByteArraySerializer())) {
      for (int n = 0; n < perKind; n++) {
        requests(producer);
        sampled(producer);
        rewarded(producer, realRequests);
        checkpoints(producer);
      }
    }
    return List.copyOf(published);
  }

  private void requests(KafkaProducer<String, byte[]> p) {
    String topic = Topics.ROLLOUT_REQUESTS.defaultName();
    bytesKinds(p, topic, "problem-poison", () -> REQUESTS.encode(request(nextId(), runId).build()));
    String id = nextId();
    send(p, topic, "negative-samples", Expect.DEAD_LETTER, id, REQUESTS.encode(request(id, runId).setSamples(-4).build()));
    id = nextId();
    send(p, topic, "nan-temperature", Expect.DEAD_LETTER, id,
        REQUESTS.encode(request(id, runId).setTemperature(Float.NaN).build()));
    id = nextId();
    send(p, topic, "1-mb-question", Expect.DEAD_LETTER, id,
        REQUESTS.encode(request(id, runId).setQuestion("What is 1 + 1? ".repeat(1_000_000 / 15)).build()));
    id = nextId();
    send(p, topic, "unknown-run", Expect.IGNORED, id, REQUESTS.encode(request(id, otherRun).build()));
  }

  private void sampled(KafkaProducer<String, byte[]> p) {
    String topic = Topics.TRAJECTORIES_SAMPLED.defaultName();
    bytesKinds(p, topic, "problem-poison", () -> SAMPLED.encode(trajectory(nextId(), runId, 0).build()));
    sampledKind(p, topic, "nan-log-probs", Expect.DEAD_LETTER,
        t -> t.setBehaviourLogprobs(List.of(-0.1f, Float.NaN, -0.3f, -0.4f)));
    sampledKind(p, topic, "infinite-log-probs", Expect.DEAD_LETTER,
        t -> t.setBehaviourLogprobs(List.of(-0.1f, Float.NEGATIVE_INFINITY, -0.3f, -0.4f)));
    sampledKind(p, topic, "mismatched-lengths", Expect.DEAD_LETTER, t -> t.setBehaviourLogprobs(List.of(-0.1f, -0.2f, -0.3f)));
    sampledKind(p, topic, "negative-sample-index", Expect.DEAD_LETTER, t -> t.setSampleIndex(-1));
    sampledKind(p, topic, "1-mb-text", Expect.DEAD_LETTER, t -> t.setResponseText("3 + 4 = 7. ".repeat(1_000_000 / 11)));
    sampledKind(p, topic, "unknown-run", Expect.GRADED, t -> t.setRunId(otherRun));
    sampledKind(p, topic, "future-version", Expect.GRADED, t -> t.setPolicyVersion(1_000_000));
    sampledKind(p, topic, "p-cot-never-returns", Expect.GRADED_TIMEOUT, t -> t.setStyle(CotStyle.PCOT)
        .setResponseText("    while True:\n        pass\n    return 7"));
  }

  private void sampledKind(KafkaProducer<String, byte[]> p, String topic, String kind, Expect expect,
      java.util.function.UnaryOperator<SampledTrajectory.Builder> change) {
    String id = nextId();
    send(p, topic, kind, expect, id, SAMPLED.encode(change.apply(trajectory(id, runId, 0)).build()));
  }

  private void rewarded(KafkaProducer<String, byte[]> p, List<String> realRequests) {
    String topic = Topics.TRAJECTORIES_REWARDED.defaultName();
    bytesKinds(p, topic, "problem-poison", () -> REWARDED.encode(rewarded(trajectory(nextId(), runId, 0).build()).build()));
    // Each answers a real request of the run (the newest ones, most likely still in flight): a learner that took one
    // for its sample would train on it, or count the genuine sample as a duplicate.
    rewardedKind(p, topic, "nan-log-probs", realRequests,
        t -> t.setBehaviourLogprobs(List.of(-0.1f, Float.NaN, -0.3f, -0.4f)), r -> r);
    rewardedKind(p, topic, "positive-infinite-log-probs", realRequests,
        t -> t.setBehaviourLogprobs(List.of(-0.1f, Float.POSITIVE_INFINITY, -0.3f, -0.4f)), r -> r);
    rewardedKind(p, topic, "mismatched-lengths", realRequests, t -> t.setBehaviourLogprobs(List.of(-0.1f)), r -> r);
    rewardedKind(p, topic, "sample-index-beyond-k", realRequests, t -> t.setSampleIndex(1000), r -> r);
    rewardedKind(p, topic, "token-outside-vocabulary", realRequests,
        t -> t.setResponseTokenIds(List.of(7, 1_000_000, 9, 2)), r -> r);
    rewardedKind(p, topic, "future-version", realRequests, t -> t.setPolicyVersion(1_000_000), r -> r);
    rewardedKind(p, topic, "nan-reward", realRequests, t -> t, r -> r.setReward(Float.NaN));
    String id = nextId();
    send(p, topic, "unknown-run", Expect.IGNORED, id, REWARDED.encode(rewarded(trajectory(id, otherRun, 0).build()).build()));
  }

  private void rewardedKind(KafkaProducer<String, byte[]> p, String topic, String kind, List<String> realRequests,
      java.util.function.UnaryOperator<SampledTrajectory.Builder> change,
      java.util.function.UnaryOperator<RewardedTrajectory.Builder> changeReward) {
    String id = realRequests.isEmpty() ? nextId() : realRequests.get(rng.nextInt(realRequests.size()));
    SampledTrajectory t = change.apply(trajectory(id, runId, rng.nextInt(4))).build();
    send(p, topic, kind, Expect.DEAD_LETTER, id, REWARDED.encode(changeReward.apply(rewarded(t)).build()));
  }

  private void checkpoints(KafkaProducer<String, byte[]> p) {
    String topic = Topics.CHECKPOINTS.defaultName();
    bytesKinds(p, topic, runId, () -> CHECKPOINTS.encode(checkpoint(runId, 999_000 + seq++, realCheckpointUri).build()));
    send(p, topic, "wrong-sha256", Expect.DEAD_LETTER, null,
        CHECKPOINTS.encode(checkpoint(runId, 1_000_000 + seq++, realCheckpointUri).setSha256("0".repeat(64)).build()));
    send(p, topic, "missing-directory", Expect.DEAD_LETTER, null, CHECKPOINTS.encode(
        checkpoint(runId, 1_000_000 + seq++, "file:///nonexistent/reft-chaos/v" + seq).build()));
    send(p, topic, "unknown-run", Expect.IGNORED, null,
        CHECKPOINTS.encode(checkpoint(otherRun, 5, "file:///nonexistent/" + otherRun).build()));
  }

  /** Random bytes, an unknown schema fingerprint, a truncated record: undecodable on any topic. */
  private void bytesKinds(KafkaProducer<String, byte[]> p, String topic, String key, Supplier<byte[]> valid) {
    byte[] random = new byte[64 + rng.nextInt(448)];
    rng.nextBytes(random);
    random[0] = (byte) (random[0] == (byte) 0xC3 ? 0x00 : random[0]); // not by chance the Avro marker
    sendKeyed(p, topic, key, "random-bytes", random);
    byte[] unknown = valid.get();
    for (int i = 2; i < 10; i++) {
      unknown[i] = (byte) rng.nextInt(256);
    }
    sendKeyed(p, topic, key, "unknown-fingerprint", unknown);
    byte[] whole = valid.get();
    sendKeyed(p, topic, key, "truncated", Arrays.copyOf(whole, whole.length / 2));
  }

  private void sendKeyed(KafkaProducer<String, byte[]> p, String topic, String key, String kind, byte[] value) {
    publish(p, topic, key, kind, Expect.DEAD_LETTER, null, value);
  }

  private void send(KafkaProducer<String, byte[]> p, String topic, String kind, Expect expect, String requestId,
      byte[] value) {
    String key = topic.equals(Topics.CHECKPOINTS.defaultName()) ? (kind.equals("unknown-run") ? otherRun : runId)
        : "problem-poison";
    publish(p, topic, key, kind, expect, requestId, value);
  }

  private void publish(KafkaProducer<String, byte[]> p, String topic, String key, String kind, Expect expect,
      String requestId, byte[] value) {
    try {
      RecordMetadata m = p.send(new ProducerRecord<>(topic, key, value)).get();
      published.add(new Published(topic, kind, expect, m.partition(), m.offset(), requestId));
    } catch (Exception e) {
      throw new IllegalStateException("cannot publish the " + kind + " poison record to " + topic + ": " + e.getMessage(), e);
    }
  }

  private String nextId() {
    return ID_PREFIX + runId + "-" + (seq++);
  }

  /** The request ids of the run's newest requests (by creation time). */
  private List<String> latestRequestIds(int n) {
    List<RolloutRequest> mine = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : TopicReader.readAll(client, Topics.ROLLOUT_REQUESTS.defaultName(),
        new StringDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer(), Duration.ofSeconds(30))) {
      try {
        RolloutRequest req = REQUESTS.decode(r.value());
        if (req != null && runId.equals(req.getRunId()) && !req.getRequestId().startsWith(ID_PREFIX)) {
          mine.add(req);
        }
      } catch (RuntimeException poison) {
        // not ours to pick
      }
    }
    mine.sort(Comparator.comparing(RolloutRequest::getCreatedAt).reversed());
    return mine.stream().limit(n).map(RolloutRequest::getRequestId).toList();
  }

  private static RolloutRequest.Builder request(String id, String run) {
    return RolloutRequest.newBuilder()
        .setRunId(run).setRequestId(id).setProblemId("problem-poison").setDataset("chaos")
        .setQuestion("What is 3 + 4?").setGoldAnswer("7").setStyle(CotStyle.NCOT).setSamples(4)
        .setTemperature(1f).setTopK(0).setTopP(1f).setMaxNewTokens(64).setPolicyVersion(0).setSeed(7)
        .setCreatedAt(Instant.now());
  }

  private static SampledTrajectory.Builder trajectory(String id, String run, int sampleIndex) {
    Instant now = Instant.now();
    return SampledTrajectory.newBuilder()
        .setRunId(run).setRequestId(id).setSampleIndex(sampleIndex).setProblemId("problem-poison").setDataset("chaos")
        .setQuestion("What is 3 + 4?").setGoldAnswer("7").setStyle(CotStyle.NCOT)
        .setPromptTokenIds(List.of(1, 5, 6)).setResponseTokenIds(List.of(7, 8, 9, 2))
        .setResponseText("3 + 4 = 7.\nTherefore, the answer is: 7")
        .setBehaviourLogprobs(List.of(-0.1f, -0.2f, -0.3f, -0.4f)).setFinishReason(FinishReason.EOS)
        .setPolicyVersion(0).setTemperature(1f).setSamplerId("chaos").setRequestCreatedAt(now).setSamplingMillis(1)
        .setCreatedAt(now);
  }

  private static RewardedTrajectory.Builder rewarded(SampledTrajectory t) {
    return RewardedTrajectory.newBuilder()
        .setTrajectory(t).setReward(1f).setOutcome(Outcome.CORRECT).setExtractedAnswer("7").setError(null)
        .setExecutionMicros(1).setRewardRule("chaos").setScorerId("chaos").setCreatedAt(Instant.now());
  }

  private static CheckpointPublished.Builder checkpoint(String run, long version, String uri) {
    return CheckpointPublished.newBuilder()
        .setRunId(run).setVersion(version).setUri(uri).setSha256("0".repeat(64)).setStep(version).setMode("reft")
        .setMetrics(Map.of()).setCreatedAt(Instant.now());
  }

  static boolean isPoisonId(String requestId) {
    return requestId != null && requestId.startsWith(ID_PREFIX);
  }
}
