package dev.reft.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;

class TopicsTest {

  @Test
  void namesComeFromTheCatalogUnlessOverridden() {
    assertThat(Topics.TRAJECTORIES_REWARDED.name(Map.of())).isEqualTo("reft.trajectories.rewarded");
    assertThat(Topics.TRAJECTORIES_REWARDED.name(Map.of("reft.topics.trajectories-rewarded", "replay.rewarded")))
        .isEqualTo("replay.rewarded");
    assertThat(Topics.TRAJECTORIES_REWARDED.name(key -> Optional.of("  ")))
        .as("a blank override means the default")
        .isEqualTo("reft.trajectories.rewarded");
  }

  @Test
  void topicNamesAndConfigKeysAreUnique() {
    assertThat(Topics.ALL.stream().map(Topic::defaultName).distinct().count()).isEqualTo(Topics.ALL.size());
    assertThat(Topics.ALL.stream().map(Topic::configKey).distinct().count()).isEqualTo(Topics.ALL.size());
  }

  @Test
  void latestValueTopicsAreCompactedAndTheRestAreLogs() {
    NewTopic checkpoints = Topics.CHECKPOINTS.newTopic("c", (short) 1);
    assertThat(checkpoints.configs()).containsEntry("cleanup.policy", "compact");
    var compacted = java.util.Set.of("reft.checkpoints", "reft.reward.stats");
    assertThat(Topics.newTopics(k -> Optional.empty(), (short) 1))
        .allSatisfy(t -> assertThat(t.configs())
            .containsEntry("cleanup.policy", compacted.contains(t.name()) ? "compact" : "delete"));
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> new Topic<>("x", "x", Serdes.String(), Serdes.String(), 0, "delete", ""))
        .hasMessageContaining("partitions");
    assertThatThrownBy(() -> new Topic<>("x", "x", Serdes.String(), Serdes.String(), 1, "forever", ""))
        .hasMessageContaining("cleanupPolicy");
  }

  @Test
  void anyValueSerializerPicksTheSerdeByRecordType() {
    var any = Topics.anyValueSerializer();
    assertThat(any.serialize("t", SampleRecords.deadLetter()))
        .isEqualTo(Topics.DEADLETTER.valueSerde().serializer().serialize("t", SampleRecords.deadLetter()));
    assertThat(Topics.TRAJECTORIES_SAMPLED.valueSerde().deserializer().deserialize("t", any.serialize("t", SampleRecords.sampled())))
        .isEqualTo(SampleRecords.sampled());
    assertThat(any.serialize("t", null)).isNull();
    assertThatThrownBy(() -> any.serialize("t", "not a record")).hasMessageContaining("java.lang.String");
  }
}
