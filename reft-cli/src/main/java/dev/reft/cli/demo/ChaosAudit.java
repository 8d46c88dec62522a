package dev.reft.cli.demo;

import dev.reft.cli.demo.ChaosPoison.Expect;
import dev.reft.cli.demo.ChaosPoison.Published;
import dev.reft.kafka.local.TopicReader;
import dev.reft.learner.metrics.LearnerEvent;
import dev.reft.learner.metrics.Metric;
import dev.reft.learner.store.LearnerState;
import dev.reft.schemas.AvroSerde;
import dev.reft.schemas.DeadLetter;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.RolloutRequest;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * What {@code reft chaos} checks after the run, read back from the topics and the learner's final checkpoint:
 *
 * <ol>
 *   <li><b>Sampled once, graded once.</b> Every sample the run requested — (request id, sample index) for each of
 *       its requests' K — is in {@code reft.trajectories.sampled} exactly once and in
 *       {@code reft.trajectories.rewarded} exactly once (read_committed: what consumers see).
 *   <li><b>Trained at most once.</b> The learner handles the rewarded topic in offset order, and its final
 *       checkpoint says where it stopped: the next offset per partition and the held records below it (K samples of
 *       a question not yet complete). Every record of the run below those offsets and not held was handled exactly
 *       once, so their number must equal the trajectories the update records say were trained (the last record of
 *       each version 1..N) plus those the learner counted as not trained (dropped stale, empty, unexpected,
 *       duplicate, invalid; running totals in the checkpoint). A trajectory trained twice after a resume makes the
 *       right side larger, one skipped makes it smaller.
 *   <li><b>Poison.</b> Each poison record had its expected effect ({@link ChaosPoison.Expect}); no genuine record
 *       was dead-lettered.
 * </ol>
 */
final class ChaosAudit {

  private static final AvroSerde<RolloutRequest> REQUESTS = (AvroSerde<RolloutRequest>) Topics.ROLLOUT_REQUESTS.valueSerde();
  private static final AvroSerde<SampledTrajectory> SAMPLED =
      (AvroSerde<SampledTrajectory>) Topics.TRAJECTORIES_SAMPLED.valueSerde();
  private static final AvroSerde<RewardedTrajectory> REWARDED =
      (AvroSerde<RewardedTrajectory>) Topics.TRAJECTORIES_REWARDED.valueSerde();
  private static final AvroSerde<DeadLetter> DEAD = (AvroSerde<DeadLetter>) Topics.DEADLETTER.valueSerde();
  private static final AvroSerde<LearnerUpdate> UPDATES = (AvroSerde<LearnerUpdate>) Topics.LEARNER_UPDATES.valueSerde();

  /** The learner's counters of rewarded records of the run it handled but did not train on. */
  static final List<LearnerEvent> NOT_TRAINED = List.of(LearnerEvent.DROPPED_STALE, LearnerEvent.EMPTY_RESPONSES,
      LearnerEvent.UNEXPECTED, LearnerEvent.DUPLICATES, LearnerEvent.INVALID);

  private final Map<String, Object> client;
  private final String runId;
  private final List<Published> poison;
  private final Set<String> poisonAt = new HashSet<>();
  private final Instant since;

  // What was read.
  private final Map<String, Integer> requested = new LinkedHashMap<>(); // request id -> K
  private final Map<String, Integer> sampledCount = new HashMap<>(); // "id#k" -> records
  private final Map<String, Integer> gradedCount = new HashMap<>();
  private final Map<String, Integer> poisonSampled = new HashMap<>();
  private final Map<String, List<RewardedTrajectory>> gradedById = new HashMap<>();
  private final List<DeadLetter> deadLetters = new ArrayList<>();
  private final List<ConsumerRecord<String, byte[]>> rewardedRecords = new ArrayList<>();
  private int sampledRecords;
  private int gradedRecords;

  ChaosAudit(Map<String, Object> client, String runId, List<Published> poison, Instant since) {
    this.client = Map.copyOf(client);
    this.runId = runId;
    this.poison = poison;
    this.since = since;
    for (Published p : poison) {
      poisonAt.add(at(p.topic(), p.partition(), p.offset()));
    }
  }

  /** Reads the topics until every requested sample is sampled and graded, or until {@code patience} passes. */
  ChaosAudit read(Duration patience) throws InterruptedException {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      readOnce();
      if (missing() == 0 || System.nanoTime() > deadline) {
        return this;
      }
      Thread.sleep(5_000);
    }
  }

  /** Samples requested and not yet both sampled and graded. */
  int missing() {
    int n = 0;
    for (Map.Entry<String, Integer> e : requested.entrySet()) {
      for (int k = 0; k < e.getValue(); k++) {
        String id = e.getKey() + "#" + k;
        if (sampledCount.getOrDefault(id, 0) == 0 || gradedCount.getOrDefault(id, 0) == 0) {
          n++;
        }
      }
    }
    return n;
  }

  private void readOnce() {
    requested.clear();
    sampledCount.clear();
    gradedCount.clear();
    poisonSampled.clear();
    gradedById.clear();
    deadLetters.clear();
    rewardedRecords.clear();
    sampledRecords = 0;
    gradedRecords = 0;
    for (ConsumerRecord<String, byte[]> r : read(Topics.ROLLOUT_REQUESTS.defaultName())) {
      RolloutRequest req = decode(REQUESTS, r);
      if (req != null && runId.equals(req.getRunId()) && !ChaosPoison.isPoisonId(req.getRequestId())) {
        requested.put(req.getRequestId(), req.getSamples());
      }
    }
    for (ConsumerRecord<String, byte[]> r : read(Topics.TRAJECTORIES_SAMPLED.defaultName())) {
      SampledTrajectory t = decode(SAMPLED, r);
      if (t != null && ChaosPoison.isPoisonId(t.getRequestId())) {
        poisonSampled.merge(t.getRequestId(), 1, Integer::sum);
      }
      if (t != null && runId.equals(t.getRunId()) && !ChaosPoison.isPoisonId(t.getRequestId())) {
        sampledCount.merge(t.getRequestId() + "#" + t.getSampleIndex(), 1, Integer::sum);
        sampledRecords++;
      }
    }
    for (ConsumerRecord<String, byte[]> r : read(Topics.TRAJECTORIES_REWARDED.defaultName())) {
      rewardedRecords.add(r);
      if (poisonAt.contains(at(r.topic(), r.partition(), r.offset()))) {
        continue; // published there directly by the chaos run
      }
      RewardedTrajectory g = decode(REWARDED, r);
      if (g == null) {
        continue;
      }
      SampledTrajectory t = g.getTrajectory();
      gradedById.computeIfAbsent(t.getRequestId(), id -> new ArrayList<>()).add(g);
      if (runId.equals(t.getRunId()) && !ChaosPoison.isPoisonId(t.getRequestId())) {
        gradedCount.merge(t.getRequestId() + "#" + t.getSampleIndex(), 1, Integer::sum);
        gradedRecords++;
      }
    }
    for (ConsumerRecord<String, byte[]> r : read(Topics.DEADLETTER.defaultName())) {
      DeadLetter d = decode(DEAD, r);
      if (d != null && !d.getCreatedAt().isBefore(since)) {
        deadLetters.add(d);
      }
    }
  }

  /** The audit's findings. */
  record Result(int requests, int samplesRequested, int sampled, int graded, long trained, int lost, int duplicated,
      int unrequested, Map<String, Long> notTrained, long handled, boolean trainingExact, String trainingDetail,
      List<String> poisonLines, int poisonOk, int genuineDeadLetters, Map<String, Integer> deadLettersByReason,
      List<String> problems) {

    boolean clean() {
      return problems.isEmpty();
    }
  }

  /**
   * Audits what was read.
   *
   * @param finalCheckpoint the learner's last checkpoint directory (its learner-state.json), or null if none
   * @param updates the run's PPO updates
   */
  Result audit(Path finalCheckpoint, int updates) throws IOException {
    List<String> problems = new ArrayList<>();
    int samplesRequested = requested.values().stream().mapToInt(Integer::intValue).sum();
    int lost = 0;
    int duplicated = 0;
    List<String> examples = new ArrayList<>();
    for (Map.Entry<String, Integer> e : requested.entrySet()) {
      for (int k = 0; k < e.getValue(); k++) {
        String id = e.getKey() + "#" + k;
        int s = sampledCount.getOrDefault(id, 0);
        int g = gradedCount.getOrDefault(id, 0);
        if (s == 0 || g == 0) {
          lost++;
          if (examples.size() < 5) {
            examples.add(id + " sampled " + s + "x, graded " + g + "x");
          }
        }
        if (s > 1 || g > 1) {
          duplicated++;
          if (examples.size() < 5) {
            examples.add(id + " sampled " + s + "x, graded " + g + "x");
          }
        }
      }
    }
    int unrequested = 0;
    for (String id : sampledCount.keySet()) {
      String request = id.substring(0, id.lastIndexOf('#'));
      int k = Integer.parseInt(id.substring(id.lastIndexOf('#') + 1));
      if (!requested.containsKey(request) || k < 0 || k >= requested.get(request)) {
        unrequested++;
      }
    }
    if (lost > 0) {
      problems.add(lost + " requested samples were not sampled and graded (e.g. " + examples + ")");
    }
    if (duplicated > 0) {
      problems.add(duplicated + " samples were sampled or graded more than once (e.g. " + examples + ")");
    }
    if (unrequested > 0) {
      problems.add(unrequested + " sampled trajectories of the run answer no request");
    }

    // Training: handled records of the run = trained + counted as not trained.
    Map<Long, Double> trainedByVersion = new TreeMap<>();
    for (ConsumerRecord<String, byte[]> r : read(Topics.LEARNER_UPDATES.defaultName())) {
      LearnerUpdate u = decode(UPDATES, r);
      if (u != null && runId.equals(u.getRunId()) && "reft".equals(u.getMode()) && u.getPolicyVersion() >= 1) {
        trainedByVersion.put(u.getPolicyVersion(), u.getMetrics().getOrDefault(Metric.TRAJECTORIES.key(), Double.NaN));
      }
    }
    long trained = Math.round(trainedByVersion.values().stream().mapToDouble(Double::doubleValue).sum());
    Map<String, Long> notTrained = new LinkedHashMap<>();
    long handled = 0;
    boolean exact = false;
    String detail;
    if (finalCheckpoint == null || !Files.isRegularFile(finalCheckpoint.resolve("learner-state.json"))) {
      detail = "no final checkpoint with a learner state";
      problems.add("training: " + detail);
    } else {
      LearnerState state = LearnerState.fromJson(Files.readAllBytes(finalCheckpoint.resolve("learner-state.json")));
      Set<String> held = new HashSet<>();
      state.pendingOffsets().forEach((p, offsets) -> offsets.forEach(o -> held.add(at("", p, o))));
      for (ConsumerRecord<String, byte[]> r : rewardedRecords) {
        if (r.offset() >= state.rewardedOffsets().getOrDefault(r.partition(), 0L) || held.contains(at("", r.partition(), r.offset()))) {
          continue;
        }
        RewardedTrajectory g = decode(REWARDED, r);
        if (g != null && runId.equals(g.getTrajectory().getRunId())) {
          handled++;
        }
      }
      long counted = 0;
      for (LearnerEvent e : NOT_TRAINED) {
        long n = state.counters().getOrDefault(e.key(), 0L);
        notTrained.put(e.key(), n);
        counted += n;
      }
      exact = handled == trained + counted && trainedByVersion.size() == updates
          && !trainedByVersion.containsValue(Double.NaN);
      detail = String.format(Locale.ROOT, "%,d records of the run handled (below the final offsets %s, %d held) = "
              + "%,d trained in %d updates + %,d not trained %s: %s", handled, state.rewardedOffsets(), held.size(),
          trained, trainedByVersion.size(), counted, notTrained, exact ? "exact" : "MISMATCH");
      if (!exact) {
        problems.add("training: " + detail + (trainedByVersion.size() != updates
            ? " (update records for " + trainedByVersion.size() + " of " + updates + " versions)" : ""));
      }
    }

    // Poison.
    List<String> lines = new ArrayList<>();
    int ok = 0;
    Map<String, List<DeadLetter>> lettersAt = new HashMap<>();
    for (DeadLetter d : deadLetters) {
      lettersAt.computeIfAbsent(at(d.getSourceTopic(), d.getSourcePartition(), d.getSourceOffset()), k -> new ArrayList<>()).add(d);
    }
    for (Published p : poison) {
      List<DeadLetter> letters = lettersAt.getOrDefault(at(p.topic(), p.partition(), p.offset()), List.of());
      List<RewardedTrajectory> graded = p.requestId() == null ? List.of()
          : gradedById.getOrDefault(p.requestId(), List.of()).stream()
              .filter(g -> !p.topic().equals(Topics.TRAJECTORIES_REWARDED.defaultName())).toList();
      int sampledForIt = p.requestId() == null ? 0 : poisonSampled.getOrDefault(p.requestId(), 0);
      String outcome;
      boolean good;
      switch (p.expect()) {
        case DEAD_LETTER -> {
          good = letters.size() == 1;
          outcome = letters.isEmpty() ? "NOT dead-lettered"
              : (letters.size() > 1 ? "dead-lettered " + letters.size() + " times: " : "dead letter ")
                  + letters.get(0).getStage() + " by " + letters.get(0).getService() + ": " + reason(letters.get(0));
        }
        case IGNORED -> {
          boolean sampledTopic = p.topic().equals(Topics.ROLLOUT_REQUESTS.defaultName());
          good = letters.isEmpty() && (!sampledTopic || sampledForIt == 0);
          outcome = good ? "ignored (another run's record): nothing sampled, no dead letter"
              : "NOT ignored: " + letters.size() + " dead letters, " + sampledForIt + " samples";
        }
        case GRADED, GRADED_TIMEOUT -> {
          boolean timeout = graded.size() == 1 && graded.get(0).getOutcome() == Outcome.TIMEOUT;
          good = letters.isEmpty() && graded.size() == 1 && (p.expect() == Expect.GRADED || timeout);
          outcome = graded.isEmpty() ? "NOT graded" + (letters.isEmpty() ? "" : " (dead-lettered: " + reason(letters.get(0)) + ")")
              : "graded " + (graded.size() > 1 ? graded.size() + " times " : "") + graded.get(0).getOutcome()
                  + (graded.get(0).getError() == null ? "" : " (" + shorten(graded.get(0).getError(), 60) + ")");
        }
        default -> throw new IllegalStateException();
      }
      if (good) {
        ok++;
      } else {
        problems.add("poison " + p.kind() + " on " + p.topic() + ": " + outcome);
      }
      lines.add(String.format(Locale.ROOT, "  %-27s %-27s %s %s", p.topic(), p.kind(), good ? "ok " : "BAD", outcome));
    }

    // Dead letters of genuine records are samples lost.
    int genuine = 0;
    Map<String, Integer> byReason = new TreeMap<>();
    for (DeadLetter d : deadLetters) {
      byReason.merge(d.getStage() + " " + reasonClass(d), 1, Integer::sum);
      if (!poisonAt.contains(at(d.getSourceTopic(), d.getSourcePartition(), d.getSourceOffset())) && !fromPoison(d)) {
        genuine++;
        if (genuine <= 3) {
          problems.add("a genuine record was dead-lettered: " + d.getSourceTopic() + "-" + d.getSourcePartition() + "@"
              + d.getSourceOffset() + " by " + d.getService() + ": " + reason(d));
        }
      }
    }
    return new Result(requested.size(), samplesRequested, sampledRecords, gradedRecords, trained, lost, duplicated,
        unrequested, notTrained, handled, exact, detail, lines, ok, genuine, byReason, problems);
  }

  /** A dead letter of a record derived from poison (a graded poison trajectory the learner refused). */
  private static boolean fromPoison(DeadLetter d) {
    if (d.getRawValue() == null || !d.getSourceTopic().equals(Topics.TRAJECTORIES_REWARDED.defaultName())) {
      return false;
    }
    try {
      byte[] raw = new byte[d.getRawValue().remaining()];
      d.getRawValue().duplicate().get(raw);
      RewardedTrajectory g = REWARDED.decode(raw);
      return g != null && ChaosPoison.isPoisonId(g.getTrajectory().getRequestId());
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** The error of a dead letter without its exception class, shortened. */
  static String reason(DeadLetter d) {
    String m = d.getErrorMessage();
    int colon = m.indexOf(": ");
    if (colon > 0 && colon < 60 && !m.substring(0, colon).contains(" ")) {
      m = m.substring(colon + 2);
    }
    return shorten(m, 110);
  }

  /** What a dead letter is grouped by: its exception and, for undecodable records, why. */
  static String reasonClass(DeadLetter d) {
    String cls = d.getErrorClass().substring(d.getErrorClass().lastIndexOf('.') + 1);
    String m = d.getErrorMessage();
    for (String why : List.of("BAD_HEADER", "UNKNOWN_SCHEMA", "CORRUPT_BODY")) {
      if (m.contains("(" + why + ")")) {
        return cls + " " + why;
      }
    }
    int i = m.indexOf("impossible trajectory: ");
    if (i >= 0) {
      String what = m.substring(i + "impossible trajectory: ".length()).replaceAll("-?[0-9][0-9.,E]*", "#");
      return "impossible trajectory: " + shorten(what.split(" at position")[0], 50);
    }
    if (m.contains("has identity") || m.contains("no manifest") || m.contains("has no manifest.json")
        || m.contains("NoSuchFile")) {
      return cls + " (checkpoint refused)";
    }
    return cls + (m.contains("room for an answer") ? " (prompt too long)" : "");
  }

  private static String shorten(String s, int n) {
    s = s.replace('\n', ' ');
    return s.length() <= n ? s : s.substring(0, n - 1) + "…";
  }

  private List<ConsumerRecord<String, byte[]>> read(String topic) {
    return TopicReader.readAll(client, topic, new StringDeserializer(), new ByteArrayDeserializer(), Duration.ofSeconds(120));
  }

  private static <T extends org.apache.avro.specific.SpecificRecord> T decode(AvroSerde<T> serde,
      ConsumerRecord<String, byte[]> r) {
    try {
      return serde.decode(r.value());
    } catch (RuntimeException poison) {
      return null;
    }
  }

  private static String at(String topic, int partition, long offset) {
    return topic + "/" + partition + "@" + offset;
  }
}
