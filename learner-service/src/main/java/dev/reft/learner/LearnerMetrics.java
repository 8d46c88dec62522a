package dev.reft.learner;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The learner's Prometheus metrics (at {@code /q/metrics}): one gauge {@code reft_learner_<name>} per
 * diagnostic of the latest update — policy_loss, value_loss, entropy, approx_kl, clip_fraction,
 * explained_variance, kl_to_ref, reward_mean, accuracy, response_length, tokens_per_second,
 * policy_lag_mean, policy_lag_max, learning_rate, grad_norm, version, ... — the latest held-out accuracy
 * ({@code reft_learner_eval_greedy_accuracy}, {@code reft_learner_eval_voting_accuracy}), and the counter
 * {@code reft_learner_events_total{event=...}} (dropped_stale, duplicates, unexpected, requests_timed_out, ...).
 */
public final class LearnerMetrics {

  private final MeterRegistry registry;
  private final Map<String, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();

  public LearnerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Sets gauge {@code reft_learner_<name>}. */
  public void set(String name, double value) {
    gauges.computeIfAbsent(name, n -> {
      AtomicReference<Double> ref = new AtomicReference<>(Double.NaN);
      registry.gauge("reft_learner_" + n.toLowerCase(Locale.ROOT), ref, r -> r.get());
      return ref;
    }).set(value);
  }

  /** Sets every entry as a gauge. */
  public void setAll(Map<String, Double> values) {
    values.forEach(this::set);
  }

  /** Increments {@code reft_learner_events_total{event=<name>}}. */
  public void increment(String event) {
    registry.counter("reft_learner_events_total", "event", event.toLowerCase(Locale.ROOT)).increment();
  }
}
