package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.TopicReader;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.learner.metrics.Metric;
import dev.reft.learner.store.CheckpointStore;
import dev.reft.learner.store.LearnerState;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.schemas.CheckpointPublished;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three services as processes over a real broker: a warm-up, a short ReFT run whose learner is killed
 * (SIGKILL) after a few versions and started again. The restarted learner resumes at the offsets stored in
 * its newest checkpoint, reading again exactly the samples it held for questions not yet complete: the graded
 * trajectories handled before and after the crash are disjoint and together complete — each of the run's
 * trajectories below the final offsets was trained on, dropped, or is held, exactly once.
 */
@WithKafkaBroker
class LearnerResumeIT {

  private static final String RUN = "resume-it";
  private static final int UPDATES = 8;

  @Test
  void aKilledLearnerResumesAtItsCheckpointOffsetsWithNothingSkippedOrRepeated(LocalKafkaBroker broker,
      @TempDir Path dir) throws Exception {
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    Path checkpoints = dir.resolve("checkpoints");
    Map<String, String> common = LearnerRig.settings(RUN, dir, 200);
    common.put("reft.learner.keep-last", "50");
    LearnerRig.warmUp(broker, dir, common, 3);

    Map<String, String> reft = new HashMap<>(common);
    reft.putAll(Map.of(
        "reft.learner.mode", "reft",
        "reft.learner.reft.total-updates", Integer.toString(UPDATES),
        "reft.learner.reft.eval-every", "0",
        "reft.ppo.questions-per-batch", "8",
        "reft.ppo.samples-per-question", "2",
        "reft.ppo.max-in-flight", "12",
        "reft.ppo.max-policy-lag", "2", // asynchronous: held samples and stale drops cross the crash
        "reft.ppo.max-new-tokens", "48",
        "reft.ppo.mini-batch-size", "16"));
    long resumedFrom;
    try (ServiceProcess reward = LearnerRig.reward(broker, dir);
        ServiceProcess sampler = LearnerRig.sampler(broker, dir, RUN, 16)) {
      ServiceProcess first = LearnerRig.learner(broker, dir, reft, "reft-1.log");
      long versionAtCrash;
      try {
        awaitPublishedVersion(broker, 3, first);
      } finally {
        first.kill();
      }
      versionAtCrash = new CheckpointStore(checkpoints, RUN, 100).versions().stream().mapToLong(Long::longValue)
          .max().orElseThrow();
      assertThat(versionAtCrash).as("killed mid-run").isBetween(3L, (long) UPDATES - 1);

      try (ServiceProcess second = LearnerRig.learner(broker, dir, reft, "reft-2.log")) {
        assertThat(second.process().waitFor(600, TimeUnit.SECONDS)).as("resumed run finished").isTrue();
        assertThat(second.process().exitValue()).as("log:%n%s", second.tail(40)).isZero();
        assertThat(second.tail(400)).contains("reft loop of run " + RUN + " at version " + versionAtCrash);
      }
      resumedFrom = versionAtCrash;
    }

    CheckpointStore store = new CheckpointStore(checkpoints, RUN, 100);
    LearnerState atCrash = state(store, resumedFrom);
    LearnerState last = state(store, UPDATES);
    assertThat(last.version()).isEqualTo(UPDATES);
    assertThat(last.counters()).as("nothing consumed twice").doesNotContainKeys("unexpected", "duplicates");

    // Every trajectory of the run below the final offsets, split at the offsets of the checkpoint resumed from.
    List<ConsumerRecord<String, RewardedTrajectory>> all = TopicReader.readAll(broker.bootstrapServers(),
        Topics.TRAJECTORIES_REWARDED.defaultName(), Topics.TRAJECTORIES_REWARDED.keySerde().deserializer(),
        Topics.TRAJECTORIES_REWARDED.valueSerde().deserializer(), Duration.ofSeconds(30));
    Set<String> before = new HashSet<>();
    Set<String> after = new HashSet<>();
    for (ConsumerRecord<String, RewardedTrajectory> r : all) {
      if (!RUN.equals(r.value().getTrajectory().getRunId()) || r.offset() >= last.rewardedOffsets().get(r.partition())) {
        continue;
      }
      String key = r.value().getTrajectory().getRequestId() + "#" + r.value().getTrajectory().getSampleIndex();
      boolean fresh = r.offset() < atCrash.rewardedOffsets().get(r.partition()) ? before.add(key) : after.add(key);
      assertThat(fresh).as("%s appears once", key).isTrue();
    }
    assertThat(before).doesNotContainAnyElementsOf(after);
    // How many trajectories each version trained on: the last update record of each version (a version the crash
    // interrupted before its checkpoint was trained again after the resume).
    Map<Long, Double> trainedPerVersion = new HashMap<>();
    for (ConsumerRecord<String, LearnerUpdate> u : TopicReader.readAll(broker.bootstrapServers(),
        Topics.LEARNER_UPDATES.defaultName(), Topics.LEARNER_UPDATES.keySerde().deserializer(),
        Topics.LEARNER_UPDATES.valueSerde().deserializer(), Duration.ofSeconds(30))) {
      if (RUN.equals(u.value().getRunId()) && "reft".equals(u.value().getMode())) {
        trainedPerVersion.put(u.value().getPolicyVersion(), u.value().getMetrics().get(Metric.TRAJECTORIES.key()));
      }
    }
    assertThat(trainedPerVersion.keySet()).hasSize(UPDATES);
    long handled = before.size() + after.size();
    assertThat(handled).as("trained %s, dropped %s, held %s", trainedPerVersion, last.counters(), last.pendingOffsets())
        .isEqualTo(trained(trainedPerVersion, UPDATES) + total(last.counters()) + held(last));
    assertThat((long) before.size()).as("before the crash")
        .isEqualTo(trained(trainedPerVersion, atCrash.version()) + total(atCrash.counters()) + held(atCrash));

    // Records of the run flowed through every topic, and the sampler served versions beyond the warm-up.
    assertThat(all).anyMatch(r -> RUN.equals(r.value().getTrajectory().getRunId())
        && r.value().getTrajectory().getPolicyVersion() >= 1);
    for (var topic : List.of(Topics.ROLLOUT_REQUESTS, Topics.TRAJECTORIES_SAMPLED, Topics.REWARD_STATS,
        Topics.LEARNER_UPDATES, Topics.EVAL, Topics.CHECKPOINTS)) {
      assertThat(TopicReader.readUntil(broker.bootstrapServers(), topic.defaultName(), topic.keySerde().deserializer(),
          org.apache.kafka.common.serialization.Serdes.ByteArray().deserializer(), Duration.ofSeconds(20),
          got -> !got.isEmpty())).as(topic.defaultName()).isNotEmpty();
    }
  }

  private static long trained(Map<Long, Double> perVersion, long upTo) {
    return perVersion.entrySet().stream().filter(e -> e.getKey() <= upTo).mapToLong(e -> e.getValue().longValue()).sum();
  }

  private static long total(Map<String, Long> counters) {
    return counters.values().stream().mapToLong(Long::longValue).sum();
  }

  private static long held(LearnerState state) {
    return state.pendingOffsets().values().stream().mapToLong(List::size).sum();
  }

  private static LearnerState state(CheckpointStore store, long version) throws Exception {
    Checkpoint c = store.open(version).orElseThrow();
    return LearnerState.fromJson(c.read(CheckpointStore.STATE));
  }

  private static void awaitPublishedVersion(LocalKafkaBroker broker, long version, ServiceProcess learner) {
    List<ConsumerRecord<String, CheckpointPublished>> got = TopicReader.readUntil(broker.bootstrapServers(),
        Topics.CHECKPOINTS.defaultName(), Topics.CHECKPOINTS.keySerde().deserializer(),
        Topics.CHECKPOINTS.valueSerde().deserializer(), Duration.ofSeconds(300),
        records -> records.stream().anyMatch(r -> RUN.equals(r.key()) && r.value().getVersion() >= version));
    assertThat(got).as("learner log:%n%s", learner.tail(40))
        .anyMatch(r -> RUN.equals(r.key()) && r.value().getVersion() >= version);
  }
}
