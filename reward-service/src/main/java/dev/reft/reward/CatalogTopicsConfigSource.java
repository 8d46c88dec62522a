package dev.reft.reward;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Tells Quarkus' Kafka Streams extension which topics must exist before the topology starts
 * ({@code quarkus.kafka-streams.topics}), from the catalog and any {@code reft.topics.*} overrides — so
 * that no topic name is spelled in {@code application.properties}. An explicit
 * {@code quarkus.kafka-streams.topics} in any other source wins (this source has a low ordinal).
 */
public final class CatalogTopicsConfigSource implements ConfigSourceFactory {

  @Override
  public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
    RewardTopology.TopicNames names = RewardTopology.TopicNames.from(key -> {
      ConfigValue value = context.getValue(key);
      return value == null ? Optional.empty() : Optional.ofNullable(value.getValue());
    });
    String topics = String.join(",", names.sampled(), names.rewarded(), names.stats(), names.deadLetter());
    return List.of(new PropertiesConfigSource(
        Map.of("quarkus.kafka-streams.topics", topics), "reft-topic-catalog", 50));
  }

  @Override
  public OptionalInt getPriority() {
    return OptionalInt.of(50);
  }

}
