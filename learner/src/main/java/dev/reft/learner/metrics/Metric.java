package dev.reft.learner.metrics;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The catalog of the learner's diagnostics: the only place their names are spelled. Each is a key of the
 * {@code metrics} map of {@code reft.learner.updates} records ({@link #key()}), and a Prometheus gauge
 * {@code reft_learner_<key>} ({@link #gauge()}) at the learner's {@code /q/metrics}. The trainers, the rollout
 * loop, the demo's monitor, the reports, the tests and the Grafana dashboard all refer to these.
 */
public enum Metric {
  // PPO (PpoTrainer): the diagnostics PPO users look for.
  POLICY_LOSS("clipped surrogate loss"),
  VALUE_LOSS("clipped value loss, before α"),
  ENTROPY("mean per-token entropy of the policy on the batch"),
  APPROX_KL("(ratio − 1) − log ratio: how far the update moved the policy"),
  CLIP_FRACTION("share of tokens whose ratio left [1 − ε, 1 + ε]"),
  IMPORTANCE_WEIGHT("mean truncated weight π_prox / μ (1 on-policy)"),
  TRUNCATED_FRACTION("share of tokens whose importance weight hit the cap"),
  GRAD_NORM("global gradient norm before clipping"),
  EXPLAINED_VARIANCE("1 − Var(R − V) / Var(R) of the value head"),
  KL_TO_REF("KL of the sampling policy to the warm-up per sequence: mean of Σ_t (ρ_t − 1) − log ρ_t, ρ = π_ref / μ"),
  REWARD_MEAN("mean task reward of the batch"),
  ACCURACY("share of the batch's samples that are correct"),
  RESPONSE_LENGTH("mean response length in tokens"),
  LEARNING_RATE("optimizer learning rate"),
  TOKENS_PER_SECOND("training tokens per second of the update"),
  // Rollout loop.
  UPDATE_SECONDS("wall time of the update"),
  SCORE_SECONDS("wall time of scoring the batch with the policy (π_prox, values) and the reference before PPO"),
  PPO_SECONDS("wall time of the PPO epochs: forward and backward passes and optimizer steps"),
  WAIT_SECONDS("wall time between the previous update's end and this one's start: waiting for trajectories"),
  CHECKPOINT_SECONDS("wall time of writing the update's checkpoint (0 when none; its publication follows)"),
  EVAL_SECONDS("wall time of the held-out evaluation after the update (0 when none)"),
  TRAJECTORIES("trajectories trained on in the update (the K samples of each question, less dropped ones)"),
  POLICY_LAG_MEAN("mean versions between the sampling policy and the learner's"),
  POLICY_LAG_MAX("largest policy lag in the batch"),
  REQUESTS_IN_FLIGHT("rollout requests outstanding"),
  TRAJECTORIES_COLLECTED("graded trajectories received by Offline-ST's sampling pass"),
  VERSION("policy version after the update"),
  // Self-training (Online-ST, Offline-ST).
  SFT_LOSS("cross-entropy of the self-training step on correct samples"),
  TRAINED_SAMPLES("correct samples trained on in the update"),
  REPLAYED_CORRECT("correct replayed samples Offline-ST trains on"),
  // Supervised fine-tuning (warm-up, best SFT, Offline-ST).
  LOSS("cross-entropy of the latest step"),
  EPOCH_MEAN_LOSS("mean cross-entropy of the epoch so far"),
  EPOCH("current epoch (from 1)"),
  EPOCHS("epochs to train"),
  EPOCH_PROGRESS("share of the current epoch done"),
  SFT_STEPS("optimizer steps of the warm-up"),
  // Publishing and evaluation.
  CHECKPOINT_VERSION("newest published policy version"),
  EVAL_GREEDY_ACCURACY("latest held-out greedy accuracy"),
  EVAL_VOTING_ACCURACY("latest held-out voting@K accuracy"),
  EVAL_CHEAPEST_PATH_SHARE("latest share of greedy chains that took a cheapest path, on problems with a choice");

  private final String description;

  Metric(String description) {
    this.description = description;
  }

  /** The key in update records: the lower-case name, such as {@code reward_mean}. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The Prometheus gauge: {@code reft_learner_<key>}. */
  public String gauge() {
    return "reft_learner_" + key();
  }

  /** One line on what it measures. */
  public String description() {
    return description;
  }

  /** The metric with this key, if any. */
  public static Optional<Metric> ofKey(String key) {
    for (Metric m : values()) {
      if (m.key().equals(key)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /** A new empty, ordered map of values. */
  public static Map<Metric, Double> newMap() {
    return new EnumMap<>(Metric.class);
  }

  /**
   * The finite values by key, for a record or a log line (Avro maps and Prometheus have no use for NaN), with
   * the running counters as {@code count_<event>} entries.
   */
  public static Map<String, Double> byKey(Map<Metric, Double> values, Map<String, Long> counters) {
    Map<String, Double> out = new LinkedHashMap<>();
    values.forEach((m, v) -> {
      if (v != null && Double.isFinite(v)) {
        out.put(m.key(), v);
      }
    });
    counters.forEach((event, n) -> out.put(LearnerEvent.COUNT_PREFIX + event, n.doubleValue()));
    return out;
  }
}
