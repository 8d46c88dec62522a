package dev.reft.learner;

import dev.reft.learner.eval.Evaluator;
import dev.reft.learner.loop.KafkaIo;
import dev.reft.learner.metrics.Metric;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.schemas.CheckpointPublished;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.EvalResult;
import dev.reft.schemas.LearnerUpdate;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * What a learner run tells the world: checkpoints on {@code reft.checkpoints} (with the consumed offsets, in one
 * transaction), per-update diagnostics on {@code reft.learner.updates}, evaluations on {@code reft.eval}, and the
 * same figures as Prometheus gauges.
 */
final class Publisher {

  private final String runId;
  private final String defaultMode;
  private final CotStyle style;
  private final KafkaIo kafka;
  private final LearnerMetrics metrics;

  Publisher(String runId, String defaultMode, CotStyle style, KafkaIo kafka, LearnerMetrics metrics) {
    this.runId = runId;
    this.defaultMode = defaultMode;
    this.style = style;
    this.kafka = kafka;
    this.metrics = metrics;
  }

  /** The Prometheus gauges and counters. */
  LearnerMetrics metrics() {
    return metrics;
  }

  /** Publishes a written checkpoint for the samplers, committing the consumed offsets with it. */
  void checkpoint(Checkpoint c, long version, Map<Integer, Long> offsets, Map<Metric, Double> atPublish) {
    kafka.publishCheckpoint(CheckpointPublished.newBuilder()
        .setRunId(runId)
        .setVersion(version)
        .setUri(c.directory().toUri().toString())
        .setSha256(c.identity())
        .setStep(Long.parseLong(c.metadata().getOrDefault("step", "0")))
        .setMode(c.metadata().getOrDefault("mode", defaultMode))
        .setMetrics(Metric.byKey(atPublish, Map.of()))
        .setCreatedAt(Instant.now())
        .build(), offsets);
    metrics.set(Metric.CHECKPOINT_VERSION, version);
  }

  /** One update's (or SFT step's) diagnostics, with the loop's running counters. */
  void update(String mode, long version, long step, Map<Metric, Double> values, Map<String, Long> counters) {
    metrics.setAll(values);
    kafka.sendUpdate(LearnerUpdate.newBuilder()
        .setRunId(runId)
        .setMode(mode)
        .setPolicyVersion(version)
        .setStep(step)
        .setMetrics(Metric.byKey(values, counters))
        .setCreatedAt(Instant.now())
        .build());
  }

  /** An evaluation's results. */
  void evaluation(Evaluator.Result r, long version, long step, String mode, String dataset) {
    Map<String, Long> outcomes = new HashMap<>();
    r.outcomes().forEach((k, v) -> outcomes.put(k.name(), v));
    metrics.set(Metric.EVAL_GREEDY_ACCURACY, r.greedyAccuracy());
    if (r.votingAccuracy() != null) {
      metrics.set(Metric.EVAL_VOTING_ACCURACY, r.votingAccuracy());
    }
    Double cheapest = r.paths().cheapestShare();
    if (cheapest != null) {
      metrics.set(Metric.EVAL_CHEAPEST_PATH_SHARE, cheapest);
    }
    kafka.sendEval(EvalResult.newBuilder()
        .setRunId(runId)
        .setPolicyVersion(version)
        .setStep(step)
        .setMode(mode)
        .setDataset(dataset)
        .setStyle(style)
        .setProblems(r.problems())
        .setGreedyAccuracy(r.greedyAccuracy())
        .setVotingK(r.votingK())
        .setVotingAccuracy(r.votingAccuracy())
        .setOutcomeCounts(outcomes)
        .setAccuracyByDifficulty(r.accuracyByDifficulty())
        .setMeanResponseLength(r.meanResponseLength())
        .setCheapestPathShare(cheapest)
        .setPathChoices(r.paths().total() == 0 ? null : Map.of("cheapest", r.paths().cheapest(),
            "costlier", r.paths().costlier(), "unmatched", r.paths().unmatched()))
        .setCreatedAt(Instant.now())
        .build());
  }
}
