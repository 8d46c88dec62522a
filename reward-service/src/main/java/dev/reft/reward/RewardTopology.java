package dev.reft.reward;

import dev.reft.schemas.AvroSerde;
import dev.reft.schemas.DeadLetter;
import dev.reft.schemas.DeadLetters;
import dev.reft.schemas.RewardStats;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.schemas.TrajectoryChecks;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The reward service's topology.
 *
 * <pre>
 * reft.trajectories.sampled ─▶ decode-and-score ─┬─▶ reft.trajectories.rewarded
 *        (raw bytes)                              │        └─▶ by-policy-version ─▶ reward-stats ─▶ reft.reward.stats
 *                                                 └─▶ reft.deadletter  (undecodable or impossible records, scoring failures)
 * </pre>
 *
 * <p>Values are read as raw bytes and decoded inside the topology, so that a record that does not decode
 * (or whose scoring throws) is routed to the dead-letter topic <em>in the same exactly-once transaction</em>
 * as everything else: a restart neither loses nor duplicates a dead letter. Kafka Streams' exception
 * handlers (configured in {@code application.properties}) stay as the last line of defence.
 */
public final class RewardTopology {

  /** Name of the state store holding the per-version totals. */
  public static final String STATS_STORE = "reward-stats-store";

  private RewardTopology() {}

  /** Topic names under the service's configuration. */
  public record TopicNames(String sampled, String rewarded, String stats, String deadLetter) {
    /** Names resolved from a config lookup ({@code reft.topics.*} overrides). */
    public static TopicNames from(java.util.function.Function<String, java.util.Optional<String>> config) {
      return new TopicNames(
          Topics.TRAJECTORIES_SAMPLED.name(config),
          Topics.TRAJECTORIES_REWARDED.name(config),
          Topics.REWARD_STATS.name(config),
          Topics.DEADLETTER.name(config));
    }

    /** The catalog's default names. */
    public static TopicNames defaults() {
      return from(key -> java.util.Optional.empty());
    }
  }

  /**
   * Builds the topology.
   *
   * @param names topics to read and write
   * @param scorer grades one sampled trajectory (thread-safe; called from every stream thread)
   * @param metrics where counters and gauges go
   * @param serviceId this instance's id, recorded in dead letters
   */
  public static Topology build(TopicNames names, TrajectoryScorer scorer, RewardMetrics metrics, String serviceId) {
    StreamsBuilder builder = new StreamsBuilder();
    AvroSerde<SampledTrajectory> sampledSerde = (AvroSerde<SampledTrajectory>) Topics.TRAJECTORIES_SAMPLED.valueSerde();

    KStream<String, Scored> scored = builder
        .stream(names.sampled(), Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("sampled-source"))
        .processValues(() -> new DecodeAndScore(sampledSerde, scorer, metrics, serviceId), Named.as("decode-and-score"));

    Map<String, KStream<String, Scored>> routes = scored
        .split(Named.as("route-"))
        .branch((key, s) -> s.deadLetter() != null, Branched.as("deadletter"))
        .defaultBranch(Branched.as("rewarded"));

    routes.get("route-deadletter")
        .mapValues(Scored::deadLetter, Named.as("dead-letter-value"))
        .to(names.deadLetter(), Produced.with(Topics.DEADLETTER.keySerde(), Topics.DEADLETTER.valueSerde())
            .withName("deadletter-sink"));

    KStream<String, RewardedTrajectory> rewarded =
        routes.get("route-rewarded").mapValues(Scored::rewarded, Named.as("rewarded-value"));
    rewarded.to(names.rewarded(), Produced.with(
            Topics.TRAJECTORIES_REWARDED.keySerde(), Topics.TRAJECTORIES_REWARDED.valueSerde())
        .withName("rewarded-sink"));

    rewarded
        .groupBy((key, r) -> RewardStatsAggregator.key(r),
            Grouped.with("by-policy-version", Serdes.String(), Topics.TRAJECTORIES_REWARDED.valueSerde()))
        .aggregate(RewardStatsAggregator::empty, RewardStatsAggregator::add, Named.as("reward-stats"),
            Materialized.<String, RewardStats, KeyValueStore<Bytes, byte[]>>as(STATS_STORE)
                .withKeySerde(Serdes.String())
                .withValueSerde(Topics.REWARD_STATS.valueSerde()))
        .toStream(Named.as("reward-stats-changes"))
        .peek((key, stats) -> metrics.onStats(stats), Named.as("reward-stats-gauges"))
        .to(names.stats(), Produced.with(Topics.REWARD_STATS.keySerde(), Topics.REWARD_STATS.valueSerde())
            .withName("reward-stats-sink"));

    return builder.build();
  }

  /** What decode-and-score produced for one input record: exactly one of the two is set. */
  record Scored(RewardedTrajectory rewarded, DeadLetter deadLetter) {}

  /**
   * Decodes a sampled trajectory and grades it; anything that fails becomes a dead letter, and so does a record that
   * decodes but is impossible ({@link TrajectoryChecks}: NaN or infinite log-probs, mismatched lengths, negative ids,
   * a response text of megabytes) — grading it would pass the poison on to the learner.
   */
  static final class DecodeAndScore implements FixedKeyProcessor<String, byte[], Scored> {
    private final AvroSerde<SampledTrajectory> serde;
    private final TrajectoryScorer scorer;
    private final RewardMetrics metrics;
    private final String serviceId;
    private FixedKeyProcessorContext<String, Scored> context;

    DecodeAndScore(AvroSerde<SampledTrajectory> serde, TrajectoryScorer scorer, RewardMetrics metrics, String serviceId) {
      this.serde = serde;
      this.scorer = scorer;
      this.metrics = metrics;
      this.serviceId = serviceId;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, Scored> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, byte[]> record) {
      if (record.value() == null) {
        return; // a tombstone carries nothing to grade
      }
      SampledTrajectory sampled;
      try {
        sampled = serde.decode(record.value());
      } catch (RuntimeException e) {
        context.forward(record.withValue(new Scored(null, deadLetter(record, DeadLetters.Stage.DESERIALIZATION, e))));
        metrics.onDeadLetter(DeadLetters.Stage.DESERIALIZATION);
        return;
      }
      if (sampled == null) {
        return;
      }
      java.util.Optional<String> impossible = TrajectoryChecks.problem(sampled, 0);
      if (impossible.isPresent()) {
        IllegalArgumentException e = new IllegalArgumentException("impossible trajectory: " + impossible.get());
        context.forward(record.withValue(new Scored(null, deadLetter(record, DeadLetters.Stage.PROCESSING, e))));
        metrics.onDeadLetter(DeadLetters.Stage.PROCESSING);
        return;
      }
      try {
        RewardedTrajectory rewarded = scorer.score(sampled);
        metrics.onScored(rewarded);
        context.forward(record.withValue(new Scored(rewarded, null)));
      } catch (dev.reft.tasks.sandbox.SandboxUnavailableException e) {
        throw e; // infrastructure, not the record: do not dead-letter a good trajectory
      } catch (RuntimeException e) {
        context.forward(record.withValue(new Scored(null, deadLetter(record, DeadLetters.Stage.PROCESSING, e))));
        metrics.onDeadLetter(DeadLetters.Stage.PROCESSING);
      }
    }

    private DeadLetter deadLetter(FixedKeyRecord<String, byte[]> record, DeadLetters.Stage stage, Exception e) {
      RecordMetadata source = context.recordMetadata().orElse(null);
      return DeadLetters.of(
          serviceId,
          stage,
          source == null ? "" : source.topic(),
          source == null ? -1 : source.partition(),
          source == null ? -1 : source.offset(),
          record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8),
          record.value(),
          e);
    }
  }
}
