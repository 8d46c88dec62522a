package dev.reft.learner.loop;

import dev.reft.learner.LearnerMetrics;
import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.learner.store.LearnerState;
import dev.reft.learner.metrics.LearnerEvent;
import dev.reft.learner.metrics.Metric;
import dev.reft.learner.train.Rollout;
import dev.reft.learner.train.RolloutTrainer;
import dev.reft.policy.sampling.Rng;
import dev.reft.schemas.AvroSerde;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.DeadLetters;
import dev.reft.schemas.TrajectoryChecks;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.RolloutRequest;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Problem;
import io.quarkus.logging.Log;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The learner's side of the rollout loop: it drives. It issues rollout requests for the training problems
 * (shuffled per pass, seeded), keeps at most {@code maxInFlight} outstanding so the policy lag stays
 * bounded, consumes graded trajectories of its run, drops those sampled more than {@code maxPolicyLag}
 * versions before the newest published policy, and hands every full batch to the update. Requests ask for the
 * newest published version (the run publishes every {@code publish-every} updates; between two publications
 * the samplers cannot serve anything newer, so that is what lockstep means then). A batch is made of whole questions: the K samples of a
 * request are held until all have arrived (or the request is given up), so they always train in the same
 * update — which the leave-one-out baseline needs.
 *
 * <p><b>Exact resume.</b> Positions in {@code reft.trajectories.rewarded} are tracked per partition as the
 * offset after the last record handled, together with the offsets of the records held for questions not yet
 * complete. A checkpoint taken right after an update is a consistent cut: weights, optimizer, RNG, data
 * position, in-flight requests, those offsets and the held ones. On restart the learner seeks each partition
 * to its first held record (or its stored offset), takes again exactly the held records below the stored
 * offsets and everything from them on, and recovers the requests issued after the checkpoint from the
 * requests topic — so a crash at any point neither skips nor repeats a trajectory.
 *
 * <p><b>Bad records.</b> A record that does not decode, or decodes into an impossible trajectory of this run
 * ({@link TrajectoryChecks}; also a sample index beyond its request's K or a policy version newer than the
 * learner's), is counted ({@code undecodable}, {@code invalid}), never trained on, and dead-lettered with the next
 * checkpoint, in the transaction that commits the offsets past it. It is refused before it counts as received, so
 * the genuine sample of the same request and index is still taken.
 */
public final class RolloutLoop {

  /** Called after each update with the new version; checkpoints, evaluates, publishes. */
  public interface AfterUpdate {
    void accept(long version, Map<Metric, Double> stats, LearnerState state);
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
  private final Map<String, Integer> problemIndex = new HashMap<>();
  /** The policy's vocabulary size, for checking token ids (0: not checked). */
  private int vocabSize;
  private final AvroSerde<RewardedTrajectory> rewardedSerde =
      (AvroSerde<RewardedTrajectory>) Topics.TRAJECTORIES_REWARDED.valueSerde();
  private final AvroSerde<RolloutRequest> requestSerde = (AvroSerde<RolloutRequest>) Topics.ROLLOUT_REQUESTS.valueSerde();

  // The resumable state.
  private long version;
  /** The newest version published for the samplers: what requests ask for and what the lag bound counts from. */
  private long servedVersion;
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
  /** Whole questions ready for the next update. */
  private final List<Rollout> ready = new ArrayList<>();
  private int readyQuestions;
  private final List<Long> lags = new ArrayList<>();
  private long lastUpdateEnd = System.nanoTime();
  /**
   * After a resume: per partition, the stored offset below which only the held records ({@link #replaying}) are
   * taken again; everything else below it was handled before the checkpoint.
   */
  private final Map<Integer, Long> resumeEnds = new HashMap<>();
  private final Set<Long> replaying = new HashSet<>(); // (partition << 40) | offset of the held records

  /** A request issued and not fully answered, with the samples received so far. */
  private static final class InFlight {
    final int samples;
    final Set<Integer> received = new HashSet<>();
    final long issuedVersion;
    long issuedAt;
    /** Samples kept for the batch (not stale, not empty), with where they were read. */
    final List<Rollout> kept = new ArrayList<>();
    final List<long[]> keptAt = new ArrayList<>(); // {partition, offset}
    final List<Long> keptLags = new ArrayList<>();
    /** After a resume: samples kept before the checkpoint that are still to be read again. */
    int heldToReadAgain;

    /** Index of the problem in the training problems (-1: unknown, a state written before it was recorded). */
    final int problem;

    InFlight(int samples, long issuedVersion, long issuedAt, int problem) {
      this.samples = samples;
      this.issuedVersion = issuedVersion;
      this.issuedAt = issuedAt;
      this.problem = problem;
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
    for (int i = 0; i < problems.size(); i++) {
      problemIndex.putIfAbsent(problems.get(i).id(), i);
    }
    this.hp = hp;
    this.requestTimeout = requestTimeout;
    this.seed = seed;
    this.metrics = metrics;
  }

  /** Token ids of trajectories must be below this (the policy's vocabulary size); 0 leaves them unchecked. */
  public RolloutLoop vocabSize(int size) {
    this.vocabSize = size;
    return this;
  }

  /**
   * Restores the loop's state from a checkpoint's learner state, or starts fresh at the topics' ends when
   * the checkpoint is the warm-up (another mode's state, or none).
   */
  public void restore(LearnerState state, long checkpointVersion) {
    version = checkpointVersion;
    servedVersion = checkpointVersion; // the run publishes the version it starts from
    try (KafkaConsumer<byte[], byte[]> c = kafka.rawConsumer("learner-" + runId + "-restore");
        var clientMetrics = kafka.meter(c)) {
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
          InFlight f = new InFlight(r.samples(), r.issuedVersion(), now, r.problem());
          f.received.addAll(r.received());
          f.heldToReadAgain = r.held();
          inFlight.put(r.requestId(), f);
        }
        resumeEnds.putAll(state.rewardedOffsets());
        state.pendingOffsets().forEach((partition, offsets) -> offsets.forEach(o -> replaying.add(held(partition, o))));
        state.pendingOffsets().forEach((partition, offsets) -> offsets.stream().min(Long::compare)
            .ifPresent(first -> nextOffsets.merge(partition, first, Math::min)));
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
      Log.infof("%s loop of run %s at version %d (step %d, pass %d, problem %d/%d, %d requests in flight, %d held "
              + "samples to read again); consuming %s from %s", mode, runId, version, step, epoch, position,
          problems.size(), inFlight.size(), replaying.size(), kafka.rewardedTopic, nextOffsets);
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
      inFlight.put(req.getRequestId(), new InFlight(req.getSamples(), req.getPolicyVersion(), now,
          problemIndex.getOrDefault(req.getProblemId(), -1)));
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
  public void run(long targetVersion, RolloutTrainer trainer, AfterUpdate after,
      java.util.function.BooleanSupplier running) {
    try (KafkaConsumer<byte[], byte[]> consumer = kafka.rawConsumer("learner-" + runId + "-rewarded");
        var clientMetrics = kafka.meter(consumer)) {
      List<TopicPartition> partitions = KafkaIo.partitions(consumer, kafka.rewardedTopic);
      consumer.assign(partitions);
      for (TopicPartition tp : partitions) {
        consumer.seek(tp, nextOffsets.getOrDefault(tp.partition(), 0L));
      }
      lastUpdateEnd = System.nanoTime();
      while (version < targetVersion && running.getAsBoolean()) {
        topUp();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          handle(r);
          nextOffsets.put(r.partition(), r.offset() + 1);
          if (readyQuestions >= hp.questionsPerBatch()) {
            update(trainer, after);
            if (version >= targetVersion || !running.getAsBoolean()) {
              return; // the records after this one are consumed again by whoever resumes from the checkpoint
            }
          }
        }
        expireTimedOut();
        if (readyQuestions >= hp.questionsPerBatch()) {
          update(trainer, after); // the last questions of the batch were given up
        }
        metrics.set(Metric.REQUESTS_IN_FLIGHT, inFlight.size());
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
    try (KafkaConsumer<byte[], byte[]> consumer = kafka.rawConsumer("learner-" + runId + "-rewarded");
        var clientMetrics = kafka.meter(consumer)) {
      List<TopicPartition> partitions = KafkaIo.partitions(consumer, kafka.rewardedTopic);
      consumer.assign(partitions);
      for (TopicPartition tp : partitions) {
        consumer.seek(tp, nextOffsets.getOrDefault(tp.partition(), 0L));
      }
      while ((issued < questions || !inFlight.isEmpty()) && running.getAsBoolean()) {
        int before = issued;
        while (issued < questions && inFlight.size() < hp.requestsInFlight()) {
          issue();
          issued++;
        }
        if (issued > before) {
          kafka.flushRequests();
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          handle(r);
          nextOffsets.put(r.partition(), r.offset() + 1);
        }
        expireTimedOut();
        received += ready.size();
        ready.clear();
        readyQuestions = 0;
        metrics.set(Metric.REQUESTS_IN_FLIGHT, inFlight.size());
        metrics.set(Metric.TRAJECTORIES_COLLECTED, received);
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
    boolean heldBefore = false;
    Long resumeEnd = resumeEnds.get(record.partition());
    if (resumeEnd != null && record.offset() < resumeEnd) {
      heldBefore = replaying.remove(held(record.partition(), record.offset()));
      if (!heldBefore) {
        return; // handled before the checkpoint this loop resumed from
      }
    }
    RewardedTrajectory r;
    try {
      r = rewardedSerde.decode(record.value());
    } catch (RuntimeException e) {
      count(LearnerEvent.UNDECODABLE);
      Log.warnf("dead-lettering an undecodable trajectory at %s-%d offset %d: %s", record.topic(), record.partition(),
          record.offset(), e.getMessage());
      deadLetter(record, DeadLetters.Stage.DESERIALIZATION, e);
      return;
    }
    if (r == null) {
      return;
    }
    SampledTrajectory t = r.getTrajectory();
    if (!runId.equals(t.getRunId())) {
      return; // another run shares the topic
    }
    Optional<String> impossible = TrajectoryChecks.problem(t, vocabSize);
    if (impossible.isEmpty() && !Float.isFinite(r.getReward())) {
      impossible = Optional.of("reward " + r.getReward());
    }
    InFlight f = inFlight.get(t.getRequestId());
    int samples = f != null ? f.samples : hp.samplesPerQuestion();
    if (impossible.isEmpty() && t.getSampleIndex() >= samples) {
      impossible = Optional.of("sample index " + t.getSampleIndex() + " of a request for " + samples + " samples");
    }
    if (impossible.isEmpty() && t.getPolicyVersion() > version) {
      // No sampler can hold a version the learner has not made: a resumed learner starts from its newest checkpoint,
      // and only written checkpoints are published.
      impossible = Optional.of("policy version " + t.getPolicyVersion() + " is newer than the learner's " + version);
    }
    if (impossible.isPresent()) {
      // Checked before the sample counts as received: the genuine sample, if it comes, is still taken.
      count(LearnerEvent.INVALID);
      Log.warnf("refusing an impossible trajectory of request %s at %s-%d offset %d: %s", t.getRequestId(),
          record.topic(), record.partition(), record.offset(), impossible.get());
      deadLetter(record, DeadLetters.Stage.PROCESSING, new IllegalArgumentException("impossible trajectory: "
          + impossible.get()));
      return;
    }
    if (f == null) {
      count(LearnerEvent.UNEXPECTED);
      return;
    }
    if (!heldBefore && !f.received.add(t.getSampleIndex())) {
      count(LearnerEvent.DUPLICATES);
      return;
    }
    long lag = version - t.getPolicyVersion();
    if (heldBefore) {
      keep(f, r, record, lag); // kept when first read: the lag it had then is what the batch records
    } else if (servedVersion - t.getPolicyVersion() > hp.maxPolicyLag()) {
      count(LearnerEvent.DROPPED_STALE);
    } else if (t.getResponseTokenIds().isEmpty()) {
      count(LearnerEvent.EMPTY_RESPONSES);
    } else {
      keep(f, r, record, lag);
    }
    if (heldBefore) {
      f.heldToReadAgain--;
    }
    if (f.received.size() >= f.samples && f.heldToReadAgain <= 0) {
      release(t.getRequestId());
    }
  }

  private void deadLetter(ConsumerRecord<byte[], byte[]> record, DeadLetters.Stage stage, Exception e) {
    kafka.deadLetter(record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8),
        DeadLetters.of("learner/" + runId, stage, record.topic(), record.partition(), record.offset(), record.key(),
            record.value(), e));
  }

  private void keep(InFlight f, RewardedTrajectory r, ConsumerRecord<byte[], byte[]> record, long lag) {
    f.kept.add(Rollout.of(r));
    f.keptAt.add(new long[] {record.partition(), record.offset()});
    f.keptLags.add(lag);
  }

  /** Moves a request's kept samples to the next batch as one question (none kept: it is only closed). */
  private void release(String requestId) {
    InFlight f = inFlight.remove(requestId);
    if (f == null) {
      return;
    }
    if (!f.kept.isEmpty()) { // a question whose samples were all stale or empty does not count towards a batch
      ready.addAll(f.kept);
      lags.addAll(f.keptLags);
      readyQuestions++;
    }
  }

  private void update(RolloutTrainer trainer, AfterUpdate after) {
    List<Rollout> batch = new ArrayList<>(ready);
    ready.clear();
    readyQuestions = 0;
    long t0 = System.nanoTime();
    double waited = (t0 - lastUpdateEnd) / 1e9;
    Map<Metric, Double> stats = Metric.newMap();
    if (!batch.isEmpty()) {
      stats.putAll(trainer.update(batch, rng));
    }
    version++;
    step++;
    stats.put(Metric.UPDATE_SECONDS, (System.nanoTime() - t0) / 1e9);
    stats.put(Metric.TRAJECTORIES, (double) batch.size());
    stats.put(Metric.WAIT_SECONDS, waited);
    stats.put(Metric.POLICY_LAG_MEAN, lags.stream().mapToLong(Long::longValue).average().orElse(0));
    stats.put(Metric.POLICY_LAG_MAX, (double) lags.stream().mapToLong(Long::longValue).max().orElse(0));
    stats.put(Metric.REQUESTS_IN_FLIGHT, (double) inFlight.size());
    lags.clear();
    after.accept(version, stats, state());
    lastUpdateEnd = System.nanoTime();
  }

  /** The loop's resumable state now (consistent right after an update). */
  public LearnerState state() {
    List<LearnerState.InFlightRequest> open = new ArrayList<>();
    inFlight.forEach((id, f) -> open.add(new LearnerState.InFlightRequest(id, f.samples,
        f.received.stream().sorted().toList(), f.issuedAt, f.issuedVersion, f.kept.size() + f.heldToReadAgain,
        f.problem)));
    Map<Integer, List<Long>> pending = new TreeMap<>();
    for (InFlight f : inFlight.values()) {
      for (long[] at : f.keptAt) {
        pending.computeIfAbsent((int) at[0], p -> new ArrayList<>()).add(at[1]);
      }
    }
    for (long h : replaying) { // held before a resume and not read again yet
      pending.computeIfAbsent((int) (h >>> 40), p -> new ArrayList<>()).add(h & ((1L << 40) - 1));
    }
    pending.values().forEach(offsets -> offsets.sort(Long::compare));
    kafka.flushRequests();
    Map<Integer, Long> requestEnds = kafka.requestEndOffsets();
    return new LearnerState(runId, mode, version, step, rng.state(), epoch, position, incarnation, nextSeq,
        new TreeMap<>(nextOffsets), pending, requestEnds, open, new TreeMap<>(counters));
  }

  /**
   * Issues requests until {@code maxInFlight} questions are requested and not yet trained: outstanding, or answered
   * and waiting for the update. Counting the waiting ones matters in lockstep: a request issued before the batch's
   * update is sampled by the policy being replaced and would arrive stale.
   */
  private void topUp() {
    boolean sent = false;
    while (inFlight.size() + readyQuestions < hp.requestsInFlight()) {
      issue();
      sent = true;
    }
    if (sent) {
      kafka.flushRequests();
    }
  }

  /** Sends the request for the next problem of the data order, K samples at the served version. */
  private void issue() {
    issue(order[position]);
    advanceData();
  }

  /** Sends a request for a problem, K samples at the served version. */
  private void issue(int problemIndex) {
    Problem p = problems.get(problemIndex);
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
        .setPolicyVersion(servedVersion)
        .setSeed(Rng.stream(seed, 1_000_003L + nextSeq).nextLong())
        .setCreatedAt(Instant.now())
        .build();
    kafka.sendRequest(req);
    inFlight.put(id, new InFlight(hp.samplesPerQuestion(), servedVersion, System.currentTimeMillis(), problemIndex));
    nextSeq++;
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

  /**
   * Requests unanswered for too long. One that no sampler answered at all (none running, say) is requested again for
   * the same problem, so the batch still gets its question when a sampler is back; one answered in part (its other
   * samples lost) trains with what arrived.
   */
  private void expireTimedOut() {
    long cutoff = System.currentTimeMillis() - requestTimeout.toMillis();
    List<Integer> again = new ArrayList<>();
    Iterator<Map.Entry<String, InFlight>> it = inFlight.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, InFlight> e = it.next();
      InFlight f = e.getValue();
      if (f.issuedAt >= cutoff) {
        continue;
      }
      it.remove();
      if (f.received.isEmpty() && f.problem >= 0) {
        Log.warnf("no sampler answered request %s within %s: requesting its problem again (is a sampler of run %s "
            + "running?)", e.getKey(), requestTimeout, runId);
        again.add(f.problem);
        count(LearnerEvent.REQUESTS_REISSUED);
        continue;
      }
      Log.warnf("request %s unanswered for %s (%d of %d samples): giving it up%s", e.getKey(), requestTimeout,
          f.received.size(), f.samples,
          f.kept.isEmpty() ? "" : "; its " + f.kept.size() + " samples train as a partial question");
      if (!f.kept.isEmpty()) {
        ready.addAll(f.kept);
        lags.addAll(f.keptLags);
        readyQuestions++;
      }
      count(LearnerEvent.REQUESTS_TIMED_OUT);
    }
    if (!again.isEmpty()) {
      again.forEach(this::issue);
      kafka.flushRequests();
    }
  }

  private void count(LearnerEvent event) {
    counters.merge(event.key(), 1L, Long::sum);
    metrics.increment(event);
  }

  /** A held record's key: partition and offset in one long. */
  private static long held(int partition, long offset) {
    return ((long) partition << 40) | offset;
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

  /** Tells the loop that {@code published} is now served to the samplers (called after its checkpoint is published). */
  public void published(long published) {
    servedVersion = Math.max(servedVersion, published);
  }

  public long step() {
    return step;
  }

  /** Counters so far (dropped stale, duplicates, ...). */
  public Map<String, Long> counters() {
    return new HashMap<>(counters);
  }
}
