package dev.reft.reward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.DeadLetter;
import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;

/**
 * The topology with the sandbox off ({@code reft.sandbox.mode=off}): N-CoT is graded as usual; a P-CoT
 * trajectory is dead-lettered at once with the reason, and grading carries on with the next record.
 */
class SandboxOffTopologyTest {

  @Test
  void gradesNcotAndDeadLettersPcotWithTheReason() {
    RewardTopology.TopicNames names = RewardTopology.TopicNames.defaults();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    var topology = RewardTopology.build(names, TrajectoryScorer.withoutPrograms("reward-off"),
        new RewardMetrics(registry), "reward-off");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "reward-off-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    try (TopologyTestDriver driver = new TopologyTestDriver(topology, props)) {
      TestInputTopic<String, SampledTrajectory> sampled = driver.createInputTopic(names.sampled(),
          new StringSerializer(), Topics.TRAJECTORIES_SAMPLED.valueSerde().serializer());
      TestOutputTopic<String, RewardedTrajectory> rewarded = driver.createOutputTopic(names.rewarded(),
          new StringDeserializer(), Topics.TRAJECTORIES_REWARDED.valueSerde().deserializer());
      TestOutputTopic<String, DeadLetter> dead = driver.createOutputTopic(names.deadLetter(),
          new StringDeserializer(), Topics.DEADLETTER.valueSerde().deserializer());

      SampledTrajectory before = Trajectories.ncot("n1", "3 + 4 = 7.\nTherefore, the answer is: 7", "7");
      SampledTrajectory program = Trajectories.pcot("p1", "    return 7", "7");
      SampledTrajectory after = Trajectories.ncot("n2", "3 + 4 = 8.\nTherefore, the answer is: 8", "7");
      for (SampledTrajectory t : List.of(before, program, after)) {
        sampled.pipeInput(t.getProblemId(), t);
      }

      List<RewardedTrajectory> graded = rewarded.readValuesToList();
      assertThat(graded).extracting(r -> r.getTrajectory().getRequestId()).containsExactly("n1", "n2");
      assertThat(graded).extracting(RewardedTrajectory::getOutcome).containsExactly(Outcome.CORRECT, Outcome.WRONG);
      List<DeadLetter> letters = dead.readValuesToList();
      assertThat(letters).hasSize(1);
      DeadLetter d = letters.get(0);
      assertThat(d.getStage()).isEqualTo("PROCESSING");
      assertThat(d.getErrorClass()).isEqualTo(TrajectoryScorer.ProgramsNotGraded.class.getName());
      assertThat(d.getErrorMessage()).contains("P-CoT trajectory p1#0", "sandbox is off", "reft.sandbox.mode=off");
      assertThat(registry.get("reft_reward_deadletters_total").tag("stage", "PROCESSING").counter().count())
          .isEqualTo(1.0);
    }
  }
}
