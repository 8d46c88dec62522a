package dev.reft.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The build's schema-evolution check: every record on a topic has released versions under
 * {@code src/main/resources/history/<Name>/vN.avsc}; the current schema must equal the newest one (so a
 * change cannot ship without being released) and must read, and be readable by, every older version.
 */
class SchemaEvolutionTest {

  static Stream<Class<?>> recordTypes() {
    return Stream.of(RolloutRequest.class, SampledTrajectory.class, RewardedTrajectory.class,
        CheckpointPublished.class, DeadLetter.class, RewardStats.class,
        EvalResult.class, LearnerUpdate.class);
  }

  @ParameterizedTest
  @MethodSource("recordTypes")
  void currentSchemaIsTheNewestReleasedVersion(Class<?> type) {
    Schema current = SpecificData.get().getSchema(type);
    List<Schema> released = SchemaHistory.released(current.getName());
    assertThat(released)
        .as("no released schema for %s: add %s", current.getName(), SchemaHistory.resourceName(current.getName(), 1))
        .isNotEmpty();
    Schema newest = released.get(released.size() - 1);
    assertThat(newest)
        .as("%s changed since its last release: add it as %s (after checking compatibility)",
            current.getName(), SchemaHistory.resourceName(current.getName(), released.size() + 1))
        .isEqualTo(current);
  }

  @ParameterizedTest
  @MethodSource("recordTypes")
  void currentAndEveryReleasedVersionReadEachOther(Class<?> type) {
    Schema current = SpecificData.get().getSchema(type);
    for (Schema old : SchemaHistory.released(current.getName())) {
      assertThat(SchemaCompatibility.checkReaderWriterCompatibility(current, old).getType())
          .as("current %s must read data written with a released version", current.getName())
          .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
      assertThat(SchemaCompatibility.checkReaderWriterCompatibility(old, current).getType())
          .as("released %s readers must read data written with the current version", current.getName())
          .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
    }
  }

  @Test
  void everyCatalogValueTypeIsChecked() {
    Set<Class<?>> catalogTypes = Topics.ALL.stream()
        .map(t -> (Class<?>) ((AvroSerde<?>) t.valueSerde()).type())
        .collect(Collectors.toSet());
    assertThat(recordTypes().collect(Collectors.toSet()))
        .as("the record types checked here are exactly the catalog's value types")
        .isEqualTo(catalogTypes);
  }
}
