package dev.reft.schemas;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/** One fully populated record of each type, for round-trip tests. */
final class SampleRecords {

  private SampleRecords() {}

  static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);

  static RolloutRequest request() {
    return RolloutRequest.newBuilder()
        .setRunId("run-1")
        .setRequestId("req-1")
        .setProblemId("svamp_0")
        .setDataset("svamp")
        .setQuestion("If each of 29 species has 7 pairs, how many pairs?")
        .setGoldAnswer("203")
        .setStyle(CotStyle.PCOT)
        .setSamples(4)
        .setTemperature(1.0f)
        .setTopK(0)
        .setTopP(1.0f)
        .setMaxNewTokens(128)
        .setPolicyVersion(3)
        .setSeed(42)
        .setCreatedAt(NOW)
        .build();
  }

  static SampledTrajectory sampled() {
    return SampledTrajectory.newBuilder()
        .setRunId("run-1")
        .setRequestId("req-1")
        .setSampleIndex(2)
        .setProblemId("svamp_0")
        .setDataset("svamp")
        .setQuestion("If each of 29 species has 7 pairs, how many pairs?")
        .setGoldAnswer("203")
        .setStyle(CotStyle.PCOT)
        .setPromptTokenIds(List.of(1, 17, 18, 19))
        .setResponseTokenIds(List.of(40, 41, 2))
        .setResponseText("    result = 29 * 7\n    return result")
        .setBehaviourLogprobs(List.of(-0.5f, -1.25f, -0.01f))
        .setFinishReason(FinishReason.EOS)
        .setPolicyVersion(3)
        .setTemperature(1.0f)
        .setSamplerId("sampler-0")
        .setRequestCreatedAt(NOW.minusMillis(120))
        .setSamplingMillis(35)
        .setCreatedAt(NOW)
        .build();
  }

  static RewardedTrajectory rewarded() {
    return RewardedTrajectory.newBuilder()
        .setTrajectory(sampled())
        .setReward(1.0f)
        .setOutcome(Outcome.CORRECT)
        .setExtractedAnswer("203")
        .setError(null)
        .setExecutionMicros(812)
        .setRewardRule("reft-v1")
        .setScorerId("reward-0")
        .setCreatedAt(NOW)
        .build();
  }

  static CheckpointPublished checkpoint() {
    return CheckpointPublished.newBuilder()
        .setRunId("run-1")
        .setVersion(3)
        .setUri("file:///tmp/ckpt/v3")
        .setSha256("ab".repeat(32))
        .setStep(120)
        .setMode("reft")
        .setMetrics(Map.of("reward_mean", 0.42, "accuracy", 0.31))
        .setCreatedAt(NOW)
        .build();
  }

  static DeadLetter deadLetter() {
    return DeadLetter.newBuilder()
        .setService("reward-service/0")
        .setStage("DESERIALIZATION")
        .setSourceTopic("reft.trajectories.sampled")
        .setSourcePartition(1)
        .setSourceOffset(77)
        .setRawKey(ByteBuffer.wrap(new byte[] {'k'}))
        .setRawValue(ByteBuffer.wrap(new byte[] {0, 1, 2}))
        .setErrorClass(RecordDecodeException.class.getName())
        .setErrorMessage("bad header")
        .setCreatedAt(NOW)
        .build();
  }

  static RewardStats rewardStats() {
    return RewardStats.newBuilder()
        .setRunId("run-1")
        .setPolicyVersion(3)
        .setCount(10)
        .setRewardSum(4.3)
        .setMeanReward(0.43)
        .setCorrect(4)
        .setAccuracy(0.4)
        .setOutcomeCounts(Map.of("CORRECT", 4L, "WRONG", 3L, "NO_ANSWER", 3L))
        .setResponseTokensSum(420)
        .setMeanResponseLength(42.0)
        .setUpdatedAt(NOW)
        .build();
  }

  static EvalResult eval() {
    return EvalResult.newBuilder()
        .setRunId("run-1")
        .setPolicyVersion(3)
        .setStep(120)
        .setMode("reft")
        .setDataset("synthetic-test")
        .setStyle(CotStyle.NCOT)
        .setProblems(1000)
        .setGreedyAccuracy(0.41)
        .setVotingK(8)
        .setVotingAccuracy(0.47)
        .setOutcomeCounts(Map.of("CORRECT", 410L, "WRONG", 590L))
        .setAccuracyByDifficulty(Map.of("steps=1", 0.8, "steps=4", 0.1))
        .setMeanResponseLength(37.5)
        .setCreatedAt(NOW)
        .build();
  }

  static LearnerUpdate learnerUpdate() {
    return LearnerUpdate.newBuilder()
        .setRunId("run-1")
        .setMode("reft")
        .setPolicyVersion(4)
        .setStep(121)
        .setMetrics(Map.of("policy_loss", -0.01, "approx_kl", 0.002))
        .setCreatedAt(NOW)
        .build();
  }
}
