package dev.reft.reward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.DeadLetter;
import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardStats;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Grader;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The production topology, driven by TopologyTestDriver, grading with the real sandbox. */
class RewardTopologyTest {

  private static PythonSandbox sandbox;
  private final RewardTopology.TopicNames names = RewardTopology.TopicNames.defaults();
  private SimpleMeterRegistry registry;
  private TopologyTestDriver driver;
  private TestInputTopic<String, SampledTrajectory> sampled;
  private TestInputTopic<String, byte[]> raw;
  private TestOutputTopic<String, RewardedTrajectory> rewarded;
  private TestOutputTopic<String, DeadLetter> deadLetters;
  private TestOutputTopic<String, RewardStats> stats;

  @BeforeAll
  static void startSandbox() {
    sandbox = PythonSandbox.start(SandboxConfig.defaults().withWorkers(1).withTimeout(Duration.ofMillis(500)));
  }

  @AfterAll
  static void stopSandbox() {
    sandbox.close();
  }

  @BeforeEach
  void startDriver() {
    registry = new SimpleMeterRegistry();
    var topology = RewardTopology.build(names, new TrajectoryScorer(new Grader(sandbox), "reward-test"),
        new RewardMetrics(registry), "reward-test");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "reward-topology-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    driver = new TopologyTestDriver(topology, props);
    sampled = driver.createInputTopic(names.sampled(), new StringSerializer(),
        Topics.TRAJECTORIES_SAMPLED.valueSerde().serializer());
    raw = driver.createInputTopic(names.sampled(), new StringSerializer(), new ByteArraySerializer());
    rewarded = driver.createOutputTopic(names.rewarded(), new StringDeserializer(),
        Topics.TRAJECTORIES_REWARDED.valueSerde().deserializer());
    deadLetters = driver.createOutputTopic(names.deadLetter(), new StringDeserializer(),
        Topics.DEADLETTER.valueSerde().deserializer());
    stats = driver.createOutputTopic(names.stats(), new StringDeserializer(),
        Topics.REWARD_STATS.valueSerde().deserializer());
  }

  @AfterEach
  void closeDriver() {
    driver.close();
  }

  private RewardedTrajectory gradeOne(SampledTrajectory t) {
    sampled.pipeInput(t.getProblemId(), t);
    List<RewardedTrajectory> out = rewarded.readValuesToList();
    assertThat(out).hasSize(1);
    assertThat(out.get(0).getTrajectory()).as("the sampled record is carried unchanged").isEqualTo(t);
    return out.get(0);
  }

  @Test
  void correctNcotEarnsOne() {
    RewardedTrajectory r = gradeOne(Trajectories.ncot("a", "3 + 4 = 7.\nTherefore, the answer is: 7", "7"));
    assertThat(r.getOutcome()).isEqualTo(Outcome.CORRECT);
    assertThat(r.getReward()).isEqualTo(1.0f);
    assertThat(r.getExtractedAnswer()).isEqualTo("7");
    assertThat(r.getRewardRule()).isEqualTo(Grader.REWARD_RULE);
    assertThat(r.getScorerId()).isEqualTo("reward-test");
  }

  @Test
  void wrongAnswerEarnsATenth() {
    RewardedTrajectory r = gradeOne(Trajectories.ncot("b", "3 + 4 = 8.\nTherefore, the answer is: 8", "7"));
    assertThat(r.getOutcome()).isEqualTo(Outcome.WRONG);
    assertThat(r.getReward()).isEqualTo(0.1f);
    assertThat(r.getExtractedAnswer()).isEqualTo("8");
  }

  @Test
  void noAnswerEarnsNothing() {
    RewardedTrajectory r = gradeOne(Trajectories.ncot("c", "3 + 4 is a sum and I stop here", "7"));
    assertThat(r.getOutcome()).isEqualTo(Outcome.NO_ANSWER);
    assertThat(r.getReward()).isZero();
    assertThat(r.getExtractedAnswer()).isNull();
  }

  @Test
  void correctProgramIsExecuted() {
    RewardedTrajectory r = gradeOne(Trajectories.pcot("d", "    a = 3\n    b = 4\n    result = a + b\n    return result", "7"));
    assertThat(r.getOutcome()).isEqualTo(Outcome.CORRECT);
    assertThat(r.getReward()).isEqualTo(1.0f);
    assertThat(r.getExecutionMicros()).isPositive();
  }

  @Test
  void programThatNeverEndsTimesOut() {
    RewardedTrajectory r = gradeOne(Trajectories.pcot("e", "    while True:\n        pass\n    return 7", "7"));
    assertThat(r.getOutcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(r.getReward()).isZero();
  }

  @Test
  void programThatReachesOutOfTheSandboxIsAViolation() {
    RewardedTrajectory r = gradeOne(Trajectories.pcot("f", "    return len(open('/etc/passwd').read())", "7"));
    assertThat(r.getOutcome()).isEqualTo(Outcome.SANDBOX_VIOLATION);
    assertThat(r.getReward()).isZero();
    assertThat(r.getError()).isNotBlank();
  }

  @Test
  void programThatRaisesIsAnExecutionError() {
    RewardedTrajectory r = gradeOne(Trajectories.pcot("g", "    result = 1 / 0\n    return result", "7"));
    assertThat(r.getOutcome()).isEqualTo(Outcome.EXEC_ERROR);
    assertThat(r.getReward()).isZero();
  }

  @Test
  void undecodableRecordGoesToTheDeadLetterTopicWithItsBytesAndTheServiceContinues() {
    byte[] garbage = {(byte) 0xC3, 0x01, 9, 9, 9, 9, 9, 9, 9, 9, 42};
    raw.pipeInput("poison", garbage);
    List<org.apache.kafka.streams.test.TestRecord<String, DeadLetter>> dead = deadLetters.readRecordsToList();
    assertThat(dead).hasSize(1);
    DeadLetter d = dead.get(0).value();
    assertThat(dead.get(0).key()).isEqualTo("poison");
    assertThat(d.getStage()).isEqualTo("DESERIALIZATION");
    assertThat(d.getSourceTopic()).isEqualTo(names.sampled());
    assertThat(d.getSourceOffset()).isZero();
    assertThat(d.getRawValue().array()).isEqualTo(garbage);
    assertThat(d.getErrorMessage()).contains("UNKNOWN_SCHEMA");
    assertThat(rewarded.isEmpty()).isTrue();

    gradeOne(Trajectories.ncot("after", "Therefore, the answer is: 7", "7"));
    assertThat(registry.counter("reft_reward_deadletters_total", "stage", "DESERIALIZATION").count()).isEqualTo(1.0);
  }

  @Test
  void scoringFailureIsDeadLetteredNotFatal() {
    // A gold answer that is not a number cannot be graded: a processing failure, dead-lettered.
    SampledTrajectory bad = Trajectories.ncot("h", "Therefore, the answer is: 7", "seven");
    sampled.pipeInput("h", bad);
    List<DeadLetter> dead = deadLetters.readValuesToList();
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).getStage()).isEqualTo("PROCESSING");
    assertThat(dead.get(0).getErrorMessage()).contains("seven");
    assertThat(Topics.TRAJECTORIES_SAMPLED.valueSerde().deserializer()
        .deserialize("t", dead.get(0).getRawValue().array())).isEqualTo(bad);
    gradeOne(Trajectories.ncot("i", "Therefore, the answer is: 7", "7"));
  }

  @Test
  void impossibleTrajectoriesAreDeadLetteredNotGraded() {
    SampledTrajectory good = Trajectories.ncot("ok", "Therefore, the answer is: 7", "7");
    java.util.Map<String, SampledTrajectory> poison = new java.util.LinkedHashMap<>();
    poison.put("NaN", SampledTrajectory.newBuilder(good).setBehaviourLogprobs(List.of(-0.1f, Float.NaN, -0.3f, -0.4f)).build());
    poison.put("Infinity", SampledTrajectory.newBuilder(good)
        .setBehaviourLogprobs(List.of(-0.1f, Float.NEGATIVE_INFINITY, -0.3f, -0.4f)).build());
    poison.put("3 behaviour log-probs for 4 response tokens", SampledTrajectory.newBuilder(good)
        .setBehaviourLogprobs(List.of(-0.1f, -0.2f, -0.3f)).build());
    poison.put("negative sample index", SampledTrajectory.newBuilder(good).setSampleIndex(-1).build());
    poison.put("negative policy version", SampledTrajectory.newBuilder(good).setPolicyVersion(-5).build());
    poison.put("token id -3", SampledTrajectory.newBuilder(good).setResponseTokenIds(List.of(7, -3, 9, 2)).build());
    poison.put("1000000 characters", SampledTrajectory.newBuilder(good).setResponseText("7".repeat(1_000_000)).build());
    for (var e : poison.entrySet()) {
      sampled.pipeInput("p", e.getValue());
      List<DeadLetter> dead = deadLetters.readValuesToList();
      assertThat(dead).as(e.getKey()).hasSize(1);
      assertThat(dead.get(0).getStage()).isEqualTo("PROCESSING");
      assertThat(dead.get(0).getErrorMessage()).contains("impossible trajectory", e.getKey());
      assertThat(rewarded.isEmpty()).as(e.getKey() + " is not graded").isTrue();
    }
    gradeOne(good);
  }

  @Test
  void anUnavailableSandboxIsNotTheRecordsFaultAndIsNotDeadLettered() {
    // A grader without a sandbox cannot grade P-CoT: the scorer waits, then gives up without a dead letter.
    var topology = RewardTopology.build(names, new TrajectoryScorer(Grader.textOnly(), "no-sandbox", Duration.ofMillis(300)),
        new RewardMetrics(new SimpleMeterRegistry()), "no-sandbox");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "reward-topology-no-sandbox");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    try (TopologyTestDriver d = new TopologyTestDriver(topology, props)) {
      var in = d.createInputTopic(names.sampled(), new StringSerializer(), Topics.TRAJECTORIES_SAMPLED.valueSerde().serializer());
      var dead = d.createOutputTopic(names.deadLetter(), new StringDeserializer(), Topics.DEADLETTER.valueSerde().deserializer());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> in.pipeInput("x", Trajectories.pcot("x", "    return 7", "7")))
          .hasStackTraceContaining("SandboxUnavailableException");
      assertThat(dead.isEmpty()).isTrue();
    }
  }

  @Test
  void statsTableKeepsRunningTotalsPerPolicyVersion() {
    sampled.pipeInput("1", Trajectories.sampled("r1", 0, dev.reft.schemas.CotStyle.NCOT, "q", "Therefore, the answer is: 7", "7", 3));
    sampled.pipeInput("2", Trajectories.sampled("r2", 0, dev.reft.schemas.CotStyle.NCOT, "q", "Therefore, the answer is: 8", "7", 3));
    sampled.pipeInput("3", Trajectories.sampled("r3", 0, dev.reft.schemas.CotStyle.NCOT, "q", "no idea", "7", 3));
    sampled.pipeInput("4", Trajectories.sampled("r4", 0, dev.reft.schemas.CotStyle.NCOT, "q", "Therefore, the answer is: 7", "7", 4));
    Map<String, RewardStats> latest = stats.readKeyValuesToMap();
    RewardStats v3 = latest.get("run-test/3");
    assertThat(v3.getCount()).isEqualTo(3);
    assertThat(v3.getCorrect()).isEqualTo(1);
    assertThat(v3.getAccuracy()).isCloseTo(1.0 / 3, org.assertj.core.api.Assertions.within(1e-9));
    assertThat(v3.getRewardSum()).isCloseTo(1.1, org.assertj.core.api.Assertions.within(1e-6));
    assertThat(v3.getOutcomeCounts()).containsEntry("CORRECT", 1L).containsEntry("WRONG", 1L).containsEntry("NO_ANSWER", 1L);
    assertThat(v3.getMeanResponseLength()).isEqualTo(4.0);
    assertThat(latest.get("run-test/4").getCount()).isEqualTo(1);
    assertThat(registry.find("reft_reward_version_accuracy").tags("version", "3").gauge().value())
        .isCloseTo(1.0 / 3, org.assertj.core.api.Assertions.within(1e-9));
    assertThat(registry.find("reft_reward_trajectories_total").tags("outcome", "CORRECT").counters().stream()
        .collect(Collectors.summingDouble(c -> c.count()))).isEqualTo(2.0);
  }
}
