package dev.reft.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Impossible trajectories are named; a genuine one passes; dead letters stay small enough to publish. */
class TrajectoryChecksTest {

  private static SampledTrajectory.Builder good() {
    return SampledTrajectory.newBuilder(SampleRecords.sampled())
        .setPromptTokenIds(List.of(1, 5, 6)).setResponseTokenIds(List.of(7, 8, 2))
        .setBehaviourLogprobs(List.of(-0.5f, -1.25f, 0f)).setSampleIndex(3).setPolicyVersion(2);
  }

  @Test
  void aGenuineTrajectoryPasses() {
    assertThat(TrajectoryChecks.problem(good().build(), 0)).isEmpty();
    assertThat(TrajectoryChecks.problem(good().build(), 9)).isEmpty();
    // No response at all is possible (the learner counts it as empty; grading needs no tokens).
    assertThat(TrajectoryChecks.problem(good().setResponseTokenIds(List.of()).setBehaviourLogprobs(List.of()).build(), 0))
        .isEmpty();
  }

  @Test
  void eachImpossibilityIsNamed() {
    assertThat(TrajectoryChecks.problem(good().setBehaviourLogprobs(List.of(-0.5f, Float.NaN, 0f)).build(), 0))
        .hasValueSatisfying(m -> assertThat(m).contains("NaN", "position 1"));
    assertThat(TrajectoryChecks.problem(good().setBehaviourLogprobs(List.of(-0.5f, Float.NEGATIVE_INFINITY, 0f)).build(), 0))
        .hasValueSatisfying(m -> assertThat(m).contains("Infinity"));
    assertThat(TrajectoryChecks.problem(good().setBehaviourLogprobs(List.of(-0.5f, 0.7f, 0f)).build(), 0))
        .hasValueSatisfying(m -> assertThat(m).contains("0.7", "<= 0"));
    assertThat(TrajectoryChecks.problem(good().setBehaviourLogprobs(List.of(-0.5f)).build(), 0))
        .hasValue("1 behaviour log-probs for 3 response tokens");
    assertThat(TrajectoryChecks.problem(good().setSampleIndex(-1).build(), 0)).hasValue("negative sample index -1");
    assertThat(TrajectoryChecks.problem(good().setPolicyVersion(-3).build(), 0)).hasValue("negative policy version -3");
    assertThat(TrajectoryChecks.problem(good().setPromptTokenIds(List.of(1, -2)).build(), 0))
        .hasValueSatisfying(m -> assertThat(m).contains("prompt token id -2"));
    assertThat(TrajectoryChecks.problem(good().setResponseTokenIds(List.of(7, 9, 2)).build(), 9))
        .hasValueSatisfying(m -> assertThat(m).contains("response token id 9", "vocabulary 0..8"));
    assertThat(TrajectoryChecks.problem(good().setResponseText("x".repeat(TrajectoryChecks.MAX_RESPONSE_CHARS + 1)).build(), 0))
        .hasValueSatisfying(m -> assertThat(m).contains("65537 characters"));
  }

  @Test
  void aDeadLetterOfAHugeRecordKeepsItsHeadAndSaysSo() {
    byte[] huge = new byte[1_000_000];
    huge[0] = 42;
    DeadLetter d = DeadLetters.of("svc", DeadLetters.Stage.PROCESSING, "t", 0, 7, "k".getBytes(), huge,
        new IllegalArgumentException("too big"));
    assertThat(d.getRawValue().remaining()).isEqualTo(DeadLetters.MAX_RAW_BYTES);
    assertThat(d.getRawValue().get(0)).isEqualTo((byte) 42);
    assertThat(d.getErrorMessage()).contains("too big", "raw value cut from 1000000 to 65536 bytes");
    assertThat(AvroSerde.of(DeadLetter.class).encode(d).length).isLessThan(100_000);
  }
}
