package dev.reft.learner.loop;

import dev.reft.learner.LearnerMetrics;
import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.learner.store.LearnerState;
import dev.reft.learner.train.Rollout;
import dev.reft.policy.sampling.Rng;
import dev.reft.schemas.AvroSerde;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.RolloutRequest;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Problem;
import io.quarkus.logging.Log;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The learner's side of the rollout loop: it drives. It issues rollout requests for the training problems
 * (shuffled per pass, seeded), keeps at most {@code maxInFlight} outstanding so the policy lag stays
 * bounded, consumes graded trajectories of its run, drops those more than {@code maxPolicyLag} versions
 * old, and hands every full batch to the update.
 *
 * <p><b>Exact resume.</b> Positions in {@code reft.trajectories.rewarded} are tracked per partition as the
 * offset after the last record handled, and an update happens the moment the batch is full — so after each
 * update nothing consumed is pending, and a checkpoint taken then is a consistent cut: weights, optimizer,
 * RNG, data position, in-flight requests and those offsets. On restart the learner seeks to exactly those
 * offsets (not the group's committed ones) and recovers the requests issued after the checkpoint from the
 * requests topic, so a crash at any point neither skips nor repeats a trajectory.
 */
public final class RolloutLoop {

  /** What to do with a full batch. */
  public interface Updater {
    /** Trains on the batch; returns the update's diagnostics. */
    Map<String, Double> update(List<Rollout> batch, Rng rng);
  }

  /** Called after each update with the new version; checkpoints, evaluates, publishes. */
  public interface AfterUpdate {
    void accept(long version, Map<String, Double> stats, LearnerState state);
  }

  private final KafkaIo kafka;
  private final String runId;
  private final String mode;
  private final CotStyle style;
  private final List<Problem> problems;
  private final ReftHyperparameters hp;
  private final Duration requestTimeout;
  private final long seed;
  private final LearnerMetrics metrics;
  private final AvroSerde<RewardedTrajectory> rewardedSerde =
      (AvroSerde<RewardedTrajectory>) Topics.TRAJECTORIES_REWARDED.valueSerde();
  private final AvroSerde<RolloutRequest> requestSerde = (AvroSerde<RolloutRequest>) Topics.ROLLOUT_REQUESTS.valueSerde();

  // The resumable state.
  private long version;
  private long step;
  private Rng rng;
  private int epoch;
  private int position;
  private String incarnation;
  private long nextSeq;
  private final Map<Integer, Long> nextOffsets = new TreeMap<>();
  private final LinkedHashMap<String, InFlight> inFlight = new LinkedHashMap<>();
  private final Map<String, Long> counters = new TreeMap<>();
  private int[] order;
  private final List<Rollout> buffer = new ArrayList<>();
  private final List<Long> lags = new ArrayList<>();

  /** A request issued and not fully answered. */
  private static final class InFlight {
    final int samples;
    final Set<Integer> received = new HashSet<>();
    final long issuedVersion;
    long issuedAt;

    InFlight(int samples, long issuedVersion, long issuedAt) {
      this.samples = samples;
      this.issuedVersion = issuedVersion;
      this.issuedAt = issuedAt;
    }
  }

  public RolloutLoop(KafkaIo kafka, String runId, String mode, CotStyle style, List<Problem> problems,
      ReftHyperparameters hp, Duration requestTimeout, long seed, LearnerMetrics metrics) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("no training problems");
    }
    this.kafka = kafka;
    this.runId = runId;
    this.mode = mode;
    this.style = style;
    this.problems = problems;
    this.hp = hp;
    this.requestTimeout = requestTimeout;
    this.seed = seed;
    this.metrics = metrics;
  }

  /**
   * Restores the loop's state from a checkpoint's learner state, or starts fresh at the topics' ends when
   * the checkpoint is the warm-up (another mode's state, or none).
   */
  public void restore(LearnerState state, long checkpointVersion) {
    version = checkpointVersion;
    try (KafkaConsumer<byte[], byte[]> c = kafka.rawConsumer("learner-" + runId + "-restore")) {
      List<TopicPartition> rewarded = KafkaIo.partitions(c, kafka.rewardedTopic);
      List<TopicPartition> requests = KafkaIo.partitions(c, kafka.requestsTopic);
      boolean resume = state != null && mode.equals(state.mode()) && state.version() == checkpointVersion;
      Map<Integer, Long> requestOffsets;
      if (resume) {
        step = state.step();
        rng = Rng.fromState(state.rngState());
        epoch = state.dataEpoch();
        position = state.dataPosition();
        incarnation = state.incarnation();
        nextSeq = state.nextRequestSeq();
        nextOffsets.putAll(state.rewardedOffsets());
        counters.putAll(state.counters());
        long now = System.currentTimeMillis();
        for (LearnerState.InFlightRequest r : state.inFlight()) {
          InFlight f = new InFlight(r.samples(), r.issuedVersion(), now);
          f.received.addAll(r.received());
          inFlight.put(r.requestId(), f);
        }
        requestOffsets = state.requestOffsets();
      } else {
        step = state == null ? 0 : state.step();
        rng = Rng.stream(seed, 7);
        epoch = 0;
        position = 0;
        incarnation = Long.toString(Math.abs(new java.security.SecureRandom().nextLong()) % 1_000_000_000L, 36);
        nextSeq = 0;
        c.endOffsets(rewarded).forEach((tp, o) -> nextOffsets.put(tp.partition(), o));
        requestOffsets = new TreeMap<>();
        c.endOffsets(requests).forEach((tp, o) -> requestOffsets.put(tp.partition(), o));
      }
      for (TopicPartition tp : rewarded) {
        nextOffsets.putIfAbsent(tp.partition(), 0L);
      }
      order = orderOf(epoch);
      if (resume) {
        recoverRequestsIssuedAfter(c, requests, requestOffsets);
      }
      Log.infof("%s loop of run %s at version %d (step %d, pass %d, problem %d/%d, %d requests in flight); "
              + "consuming %s from %s", mode, runId, version, step, epoch, position, problems.size(), inFlight.size(),
          kafka.rewardedTopic, nextOffsets);
    }
  }

  /** Requests issued after the checkpoint are in the requests topic: count them as issued and in flight. */
  private void recoverRequestsIssuedAfter(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> partitions,
      Map<Integer, Long> from) {
    c.assign(partitions);
    Map<TopicPartition, Long> end = c.endOffsets(partitions);
    for (TopicPartition tp : partitions) {
      c.seek(tp, from.getOrDefault(tp.partition(), 0L));
    }
    List<RolloutRequest> found = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
        try {
          RolloutRequest req = requestSerde.decode(r.value());
          if (req != null && runId.equals(req.getRunId())) {
            found.add(req);
          }
        } catch (RuntimeException e) {
          Log.warnf("ignoring an undecodable request at %s-%d offset %d", r.topic(), r.partition(), r.offset());
        }
      }
    }
    found.sort((a, b) -> Long.compare(seqOf(a.getRequestId()), seqOf(b.getRequestId())));
    long now = System.currentTimeMillis();
    for (RolloutRequest req : found) {
      long seq = seqOf(req.getRequestId());
      if (!req.getRequestId().startsWith(requestPrefix()) || seq < nextSeq || inFlight.containsKey(req.getRequestId())) {
        continue;
      }
      inFlight.put(req.getRequestId(), new InFlight(req.getSamples(), req.getPolicyVersion(), now));
      nextSeq = seq + 1;
      advanceData();
    }
    if (!found.isEmpty()) {
      Log.infof("recovered %d requests issued after the checkpoint from %s", found.size(), kafka.requestsTopic);
    }
  }

  /**
   * Runs until the policy reaches {@code targetVersion} (one version per update).
   *
   * @param running checked between polls; the loop returns when it turns false
   */
  public void run(long targetVersion, Updater updater, AfterUpdate after, java.util.function.BooleanSupplier running) {
    try (KafkaConsumer<byte[], byte[]> consumer = kafka.rawConsumer("learner-" + runId + "-rewarded")) {
      List<TopicPartition> partitions = KafkaIo.partitions(consumer, kafka.rewardedTopic);
      consumer.assign(partitions);
      for (TopicPartition tp : partitions) {
        consumer.seek(tp, nextOffsets.getOrDefault(tp.partition(), 0L));
      }
      while (version < targetVersion && running.getAsBoolean()) {
        topUp();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          handle(r);
          nextOffsets.put(r.partition(), r.offset() + 1);
          if (buffer.size() >= hp.trajectoriesPerBatch()) {
            update(updater, after);
            if (version >= targetVersion || !running.getAsBoolean()) {
              return; // the records after this one are consumed again by whoever resumes from the checkpoint
            }
          }
        }
        expireTimedOut();
        metrics.set("requests_in_flight", inFlight.size());
      }
    }
  }

  /**
   * Samples without training (Offline-ST's sampling pass): issues requests for {@code questions} problems of
   * the data order at the current version, at most {@code maxInFlight} outstanding, and consumes the graded
   * trajectories until every request is answered or given up.
   *
   * @return the graded trajectories of this run received
   */
  public long collect(int questions, java.util.function.BooleanSupplier running) {
    long received = 0;
    int issued = 0;
    long nextLog = System.nanoTime();
    try (KafkaConsumer<byte[], byte[]> consumer = kafka.rawConsumer("learner-" + runId + "-rewarded")) {
      List<TopicPartition> partitions = KafkaIo.partitions(consumer, kafka.rewardedTopic);
      consumer.assign(partitions);
      for (TopicPartition tp : partitions) {
        consumer.seek(tp, nextOffsets.getOrDefault(tp.partition(), 0L));
      }
      while ((issued < questions || !inFlight.isEmpty()) && running.getAsBoolean()) {
        int before = issued;
        while (issued < questions && inFlight.size() < hp.maxInFlight()) {
          issue();
          issued++;
        }
        if (issued > before) {
          kafka.flushRequests();
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          handle(r);
          nextOffsets.put(r.partition(), r.offset() + 1);
          received += buffer.size();
          buffer.clear();
        }
        expireTimedOut();
        metrics.set("requests_in_flight", inFlight.size());
        metrics.set("trajectories_collected", received);
        if (System.nanoTime() >= nextLog) {
          Log.infof("%s sampling: %d of %d questions issued, %d in flight, %d graded trajectories received", mode,
              issued, questions, inFlight.size(), received);
          nextLog = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        }
      }
    }
    lags.clear();
    Log.infof("%s sampling done: %d questions, %d graded trajectories, counters %s", mode, issued, received, counters);
    return received;
  }

  /** One graded trajectory from the topic. */
  private void handle(ConsumerRecord<byte[], byte[]> record) {
    RewardedTrajectory r;
    try {
      r = rewardedSerde.decode(record.value());
    } catch (RuntimeException e) {
      count("undecodable");
      Log.warnf("skipping an undecodable trajectory at %s-%d offset %d: %s", record.topic(), record.partition(),
          record.offset(), e.getMessage());
      return;
    }
    if (r == null) {
      return;
    }
    SampledTrajectory t = r.getTrajectory();
    if (!runId.equals(t.getRunId())) {
      return; // another run shares the topic
    }
    InFlight f = inFlight.get(t.getRequestId());
    if (f == null) {
      count("unexpected");
      return;
    }
    if (!f.received.add(t.getSampleIndex())) {
      count("duplicates");
      return;
    }
    if (f.received.size() >= f.samples) {
      inFlight.remove(t.getRequestId());
    }
    long lag = version - t.getPolicyVersion();
    if (lag > hp.maxPolicyLag()) {
      count("dropped_stale");
      return;
    }
    if (t.getResponseTokenIds().isEmpty()) {
      count("empty_responses");
      return;
    }
    lags.add(lag);
    buffer.add(Rollout.of(r));
  }

  private void update(Updater updater, AfterUpdate after) {
    List<Rollout> batch = new ArrayList<>(buffer);
    buffer.clear();
    long t0 = System.nanoTime();
    Map<String, Double> stats = new LinkedHashMap<>(updater.update(batch, rng));
    version++;
    step++;
    stats.put("update_seconds", (System.nanoTime() - t0) / 1e9);
    stats.put("policy_lag_mean", lags.stream().mapToLong(Long::longValue).average().orElse(0));
    stats.put("policy_lag_max", (double) lags.stream().mapToLong(Long::longValue).max().orElse(0));
    stats.put("requests_in_flight", (double) inFlight.size());
    counters.forEach((k, v) -> stats.put("count_" + k, v.doubleValue()));
    lags.clear();
    after.accept(version, stats, state());
  }

  /** The loop's resumable state now (consistent right after an update). */
  public LearnerState state() {
    List<LearnerState.InFlightRequest> open = new ArrayList<>();
    inFlight.forEach((id, f) -> open.add(new LearnerState.InFlightRequest(id, f.samples,
        f.received.stream().sorted().toList(), f.issuedAt, f.issuedVersion)));
    kafka.flushRequests();
    Map<Integer, Long> requestEnds = kafka.requestEndOffsets();
    return new LearnerState(runId, mode, version, step, rng.state(), epoch, position, incarnation, nextSeq,
        new TreeMap<>(nextOffsets), requestEnds, open, new TreeMap<>(counters));
  }

  /** Issues requests until {@code maxInFlight} are outstanding. */
  private void topUp() {
    boolean sent = false;
    while (inFlight.size() < hp.maxInFlight()) {
      issue();
      sent = true;
    }
    if (sent) {
      kafka.flushRequests();
    }
  }

  /** Sends the request for the next problem of the data order, K samples at the current version. */
  private void issue() {
    Problem p = problems.get(order[position]);
    String id = requestPrefix() + nextSeq;
    RolloutRequest req = RolloutRequest.newBuilder()
        .setRunId(runId)
        .setRequestId(id)
        .setProblemId(p.id())
        .setDataset(p.dataset())
        .setQuestion(p.question())
        .setGoldAnswer(p.goldAnswer())
        .setStyle(style)
        .setSamples(hp.samplesPerQuestion())
        .setTemperature(hp.temperature())
        .setTopK(hp.topK())
        .setTopP(hp.topP())
        .setMaxNewTokens(hp.maxNewTokens())
        .setPolicyVersion(version)
        .setSeed(Rng.stream(seed, 1_000_003L + nextSeq).nextLong())
        .setCreatedAt(Instant.now())
        .build();
    kafka.sendRequest(req);
    inFlight.put(id, new InFlight(hp.samplesPerQuestion(), version, System.currentTimeMillis()));
    nextSeq++;
    advanceData();
  }

  /** Moves to the next problem, starting a new shuffled pass at the end of one. */
  private void advanceData() {
    position++;
    if (position >= problems.size()) {
      epoch++;
      position = 0;
      order = orderOf(epoch);
    }
  }

  /** The problem order of a pass: a seeded shuffle, a pure function of (seed, pass). */
  private int[] orderOf(int pass) {
    return Rng.stream(seed, 31L * pass + 11).permutation(problems.size());
  }

  /** Requests unanswered for too long (a sampler dead-lettered them, say) free their slots. */
  private void expireTimedOut() {
    long cutoff = System.currentTimeMillis() - requestTimeout.toMillis();
    Iterator<Map.Entry<String, InFlight>> it = inFlight.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, InFlight> e = it.next();
      if (e.getValue().issuedAt < cutoff) {
        Log.warnf("request %s unanswered for %s (%d of %d samples): giving it up", e.getKey(), requestTimeout,
            e.getValue().received.size(), e.getValue().samples);
        it.remove();
        count("requests_timed_out");
      }
    }
  }

  private void count(String counter) {
    counters.merge(counter, 1L, Long::sum);
    metrics.increment(counter);
  }

  /** Request ids of this loop: {@code <run>.<incarnation>-r<seq>}. */
  private String requestPrefix() {
    return runId + "." + incarnation + "-r";
  }

  private static long seqOf(String requestId) {
    int i = requestId.lastIndexOf("-r");
    try {
      return Long.parseLong(requestId.substring(i + 2));
    } catch (RuntimeException e) {
      return -1;
    }
  }

  public long version() {
    return version;
  }

  public long step() {
    return step;
  }

  /** Counters so far (dropped stale, duplicates, ...). */
  public Map<String, Long> counters() {
    return new HashMap<>(counters);
  }
}
