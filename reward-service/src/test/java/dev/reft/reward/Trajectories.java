package dev.reft.reward;

import dev.reft.schemas.CotStyle;
import dev.reft.schemas.FinishReason;
import dev.reft.schemas.SampledTrajectory;
import java.time.Instant;
import java.util.List;

/** Sampled trajectories for tests. */
final class Trajectories {

  private Trajectories() {}

  static SampledTrajectory sampled(String requestId, int sampleIndex, CotStyle style, String question,
      String response, String gold, long version) {
    return SampledTrajectory.newBuilder()
        .setRunId("run-test")
        .setRequestId(requestId)
        .setSampleIndex(sampleIndex)
        .setProblemId("p-" + requestId)
        .setDataset("test")
        .setQuestion(question)
        .setGoldAnswer(gold)
        .setStyle(style)
        .setPromptTokenIds(List.of(1, 5, 6))
        .setResponseTokenIds(List.of(7, 8, 9, 2))
        .setResponseText(response)
        .setBehaviourLogprobs(List.of(-0.1f, -0.2f, -0.3f, -0.4f))
        .setFinishReason(FinishReason.EOS)
        .setPolicyVersion(version)
        .setTemperature(1.0f)
        .setSamplerId("sampler-test")
        .setRequestCreatedAt(Instant.ofEpochMilli(1_700_000_000_000L))
        .setSamplingMillis(5)
        .setCreatedAt(Instant.ofEpochMilli(1_700_000_000_100L))
        .build();
  }

  static SampledTrajectory ncot(String requestId, String response, String gold) {
    return sampled(requestId, 0, CotStyle.NCOT, "How many?", response, gold, 0);
  }

  static SampledTrajectory pcot(String requestId, String body, String gold) {
    return sampled(requestId, 0, CotStyle.PCOT, "How many?", body, gold, 0);
  }
}
