package dev.reft.schemas;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;

/**
 * One Kafka topic of the system: its default name, its key and value serdes and how it is created.
 *
 * <p>Instances live only in {@link Topics}; nothing else in the code base spells a topic name or picks a
 * serde. The name can be overridden by configuration under {@link #configKey()} (for example
 * {@code reft.topics.trajectories-rewarded=my-run.rewarded}), which is how a replay writes into a new
 * topic without touching the original.
 *
 * @param id short stable identifier, used in the config key
 * @param defaultName the topic name used when no override is configured
 * @param keySerde serde for record keys
 * @param valueSerde serde for record values
 * @param partitions partitions to create (the unit of scale-out for consumers of this topic)
 * @param cleanupPolicy {@code delete} for logs, {@code compact} for latest-value-per-key topics
 * @param retentionMs {@code retention.ms} of a {@code delete} topic: -1 keeps every record (history that reports
 *     read back), a positive value is the time records are kept, {@link #BROKER_DEFAULT} leaves the broker's
 *     default (7 days unless changed); a {@code compact} topic keeps the latest record of each key regardless
 * @param description one line for the README and {@code reft kafka status}
 * @param <K> key type
 * @param <V> value type
 */
public record Topic<K, V>(
    String id,
    String defaultName,
    Serde<K> keySerde,
    Serde<V> valueSerde,
    int partitions,
    String cleanupPolicy,
    long retentionMs,
    String description) {

  /** {@link #retentionMs()}: the broker's default. */
  public static final long BROKER_DEFAULT = 0;

  /** {@link #retentionMs()}: never delete. */
  public static final long FOREVER = -1;

  /** A topic with the broker's default retention. */
  public Topic(String id, String defaultName, Serde<K> keySerde, Serde<V> valueSerde, int partitions,
      String cleanupPolicy, String description) {
    this(id, defaultName, keySerde, valueSerde, partitions, cleanupPolicy, BROKER_DEFAULT, description);
  }

  public Topic {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(defaultName, "defaultName");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1 for topic " + defaultName);
    }
    if (!TopicConfig.CLEANUP_POLICY_DELETE.equals(cleanupPolicy)
        && !TopicConfig.CLEANUP_POLICY_COMPACT.equals(cleanupPolicy)) {
      throw new IllegalArgumentException("cleanupPolicy must be delete or compact: " + cleanupPolicy);
    }
    if (retentionMs < FOREVER) {
      throw new IllegalArgumentException("retentionMs must be -1 (forever), 0 (broker default) or positive: " + retentionMs);
    }
    if (retentionMs != BROKER_DEFAULT && TopicConfig.CLEANUP_POLICY_COMPACT.equals(cleanupPolicy)) {
      throw new IllegalArgumentException("a compacted topic keeps the latest record per key; no retention: " + defaultName);
    }
  }

  /** The topic-level configuration it is created with: {@code cleanup.policy}, and {@code retention.ms} when set. */
  public Map<String, String> configs() {
    return retentionMs == BROKER_DEFAULT
        ? Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, cleanupPolicy)
        : Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, cleanupPolicy, TopicConfig.RETENTION_MS_CONFIG, Long.toString(retentionMs));
  }

  /** The configuration key that overrides this topic's name, {@code reft.topics.<id>}. */
  public String configKey() {
    return "reft.topics." + id;
  }

  /**
   * The topic's name under a configuration.
   *
   * @param config looks up a configuration key (for example a MicroProfile Config, system properties or a
   *     map); an absent or blank value means the default name
   */
  public String name(Function<String, Optional<String>> config) {
    return config.apply(configKey()).filter(s -> !s.isBlank()).map(String::trim).orElse(defaultName);
  }

  /** The topic's name when the given map holds the overrides. */
  public String name(Map<String, ?> config) {
    return name(key -> Optional.ofNullable(config.get(key)).map(Object::toString));
  }

  /** A {@link NewTopic} for the admin client, with this topic's partitions, cleanup policy and retention. */
  public NewTopic newTopic(String name, short replicationFactor) {
    return new NewTopic(name, partitions, replicationFactor).configs(configs());
  }
}
