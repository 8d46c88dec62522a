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

  /** One SFT epoch's (or Offline-ST epoch's) diagnostics, sent now. */
  void update(String mode, long version, long step, Map<Metric, Double> values, Map<String, Long> counters) {
    metrics.setAll(values);
    kafka.sendUpdate(updateRecord(mode, version, step, values, counters));
  }

  /**
   * One rollout update's diagnostics, with the loop's running counters: the gauges now, the record with the next
   * checkpoint (exactly once per version, see {@link KafkaIo#queueUpdate}).
   */
  void updateWithNextCheckpoint(String mode, long version, long step, Map<Metric, Double> values,
      Map<String, Long> counters) {
    metrics.setAll(values);
    kafka.queueUpdate(updateRecord(mode, version, step, values, counters));
  }

  private LearnerUpdate updateRecord(String mode, long version, long step, Map<Metric, Double> values,
      Map<String, Long> counters) {
    return LearnerUpdate.newBuilder()
        .setRunId(runId)
        .setMode(mode)
        .setPolicyVersion(version)
        .setStep(step)
        .setMetrics(Metric.byKey(values, counters))
        .setCreatedAt(Instant.now())
        .build();
  }

  /** An evaluation's results, sent now. */
  void evaluation(Evaluator.Result r, long version, long step, String mode, String dataset) {
    kafka.sendEval(evalRecord(r, version, step, mode, dataset));
  }

  /** An evaluation of the rollout loop: the gauges now, the record with the next checkpoint. */
  void evaluationWithNextCheckpoint(Evaluator.Result r, long version, long step, String mode, String dataset) {
    kafka.queueEval(evalRecord(r, version, step, mode, dataset));
  }

  /** Sets the evaluation gauges and builds the record. */
  private EvalResult evalRecord(Evaluator.Result r, long version, long step, String mode, String dataset) {
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
    return EvalResult.newBuilder()
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
        .build();
  }
}
