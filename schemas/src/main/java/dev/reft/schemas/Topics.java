package dev.reft.schemas;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The topic catalog: the only place where topic names and serdes are spelled.
 *
 * <p>Keys are strings; values are Avro records in single-object encoding ({@link AvroSerde}). See the
 * README's topic reference for who produces and consumes each topic.
 *
 * <p>Retention: the history that {@code reft report} and dashboards read back ({@code reft.eval},
 * {@code reft.learner.updates}) is kept forever, {@code reft.reward.stats} and {@code reft.checkpoints} are
 * compacted (the latest record per key stays); trajectories and dead letters are kept 30 days — long enough to
 * replay, re-score or resume (a checkpoint stores offsets into {@code reft.trajectories.rewarded}) — and rollout
 * requests 7 days.
 */
public final class Topics {

  private Topics() {}

  private static final long DAY = 24L * 60 * 60 * 1000;

  /** Learner → samplers: one request for K sampled chains of thought. Key: problem id. */
  public static final Topic<String, RolloutRequest> ROLLOUT_REQUESTS =
      new Topic<>(
          "rollout-requests",
          "reft.rollout.requests",
          Serdes.String(),
          AvroSerde.of(RolloutRequest.class),
          4,
          TopicConfig.CLEANUP_POLICY_DELETE,
          7L * DAY,
          "learner -> samplers: problem, gold answer, style, K, sampling settings, policy version");

  /** Samplers → reward: one sampled chain of thought with behaviour log-probs. Key: problem id. */
  public static final Topic<String, SampledTrajectory> TRAJECTORIES_SAMPLED =
      new Topic<>(
          "trajectories-sampled",
          "reft.trajectories.sampled",
          Serdes.String(),
          AvroSerde.of(SampledTrajectory.class),
          4,
          TopicConfig.CLEANUP_POLICY_DELETE,
          30L * DAY,
          "sampler -> reward: prompt/response tokens, text, behaviour log-probs, policy version");

  /** Reward → learner (and analytics): the sampled record plus reward and outcome. Key: problem id. */
  public static final Topic<String, RewardedTrajectory> TRAJECTORIES_REWARDED =
      new Topic<>(
          "trajectories-rewarded",
          "reft.trajectories.rewarded",
          Serdes.String(),
          AvroSerde.of(RewardedTrajectory.class),
          4,
          TopicConfig.CLEANUP_POLICY_DELETE,
          30L * DAY,
          "reward -> learner: sampled trajectory + reward, outcome, extracted answer, execution time");

  /** Learner → samplers: newest checkpoint per run (compacted). Key: run id. */
  public static final Topic<String, CheckpointPublished> CHECKPOINTS =
      new Topic<>(
          "checkpoints",
          "reft.checkpoints",
          Serdes.String(),
          AvroSerde.of(CheckpointPublished.class),
          1,
          TopicConfig.CLEANUP_POLICY_COMPACT,
          "learner -> samplers: checkpoint version, URI, SHA-256, step, metrics (compacted)");

  /** Any service: records that could not be decoded or processed, with the reason. Key: source key. */
  public static final Topic<String, DeadLetter> DEADLETTER =
      new Topic<>(
          "deadletter",
          "reft.deadletter",
          Serdes.String(),
          AvroSerde.of(DeadLetter.class),
          1,
          TopicConfig.CLEANUP_POLICY_DELETE,
          30L * DAY,
          "any service: raw bytes, source topic/partition/offset and the error");

  /** Reward service → dashboards, reports: running totals per policy version (compacted). Key: run/version. */
  public static final Topic<String, RewardStats> REWARD_STATS =
      new Topic<>(
          "reward-stats",
          "reft.reward.stats",
          Serdes.String(),
          AvroSerde.of(RewardStats.class),
          1,
          TopicConfig.CLEANUP_POLICY_COMPACT,
          "reward -> dashboards, reports: count, mean reward, accuracy, outcomes per policy version");

  /** Learner → dashboards, reports: held-out accuracy per evaluated policy version. Key: run id. */
  public static final Topic<String, EvalResult> EVAL =
      new Topic<>(
          "eval",
          "reft.eval",
          Serdes.String(),
          AvroSerde.of(EvalResult.class),
          1,
          TopicConfig.CLEANUP_POLICY_DELETE,
          Topic.FOREVER,
          "learner -> dashboards, reports: greedy and voting@K accuracy per policy version");

  /** Learner → dashboards, reports: the diagnostics of every update. Key: run id. */
  public static final Topic<String, LearnerUpdate> LEARNER_UPDATES =
      new Topic<>(
          "learner-updates",
          "reft.learner.updates",
          Serdes.String(),
          AvroSerde.of(LearnerUpdate.class),
          1,
          TopicConfig.CLEANUP_POLICY_DELETE,
          Topic.FOREVER,
          "learner -> dashboards, reports: losses, KL, entropy, reward, lag per update");

  /** Every topic of the system, in pipeline order. */
  public static final List<Topic<?, ?>> ALL =
      List.of(ROLLOUT_REQUESTS, TRAJECTORIES_SAMPLED, TRAJECTORIES_REWARDED, CHECKPOINTS, DEADLETTER, REWARD_STATS,
          EVAL, LEARNER_UPDATES);

  /**
   * A serializer for any catalog value, choosing the serde by the record's class — for one producer that
   * writes several topics (say results and dead letters in one transaction).
   */
  public static Serializer<Object> anyValueSerializer() {
    return (topic, data) -> {
      if (data == null) {
        return null;
      }
      for (Topic<?, ?> t : ALL) {
        if (t.valueSerde() instanceof AvroSerde<?> serde && serde.type().isInstance(data)) {
          @SuppressWarnings("unchecked")
          Serializer<Object> s = (Serializer<Object>) t.valueSerde().serializer();
          return s.serialize(topic, data);
        }
      }
      throw new IllegalArgumentException("no catalog topic carries " + data.getClass().getName());
    };
  }

  /**
   * {@link NewTopic}s for every topic in the catalog, named under the given configuration.
   *
   * @param config looks up {@code reft.topics.*} overrides
   * @param replicationFactor 1 for a single local broker, 3 for a production cluster
   */
  public static List<NewTopic> newTopics(Function<String, Optional<String>> config, short replicationFactor) {
    return ALL.stream().map(t -> t.newTopic(t.name(config), replicationFactor)).toList();
  }
}
