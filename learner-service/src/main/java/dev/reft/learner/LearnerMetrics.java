package dev.reft.learner;

import dev.reft.learner.metrics.LearnerEvent;
import dev.reft.learner.metrics.Metric;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The learner's Prometheus metrics (at {@code /q/metrics}), named by the catalog: one gauge per {@link Metric}
 * ({@code reft_learner_<key>}) holding its latest value, and the counter {@link LearnerEvent#COUNTER}
 * {@code {event=<key>}} per {@link LearnerEvent}. Everything exists from start-up: the counters at zero, the gauges
 * at NaN until set ("not measured yet": an update's figures before the first update) — except the held-out accuracy
 * gauges ({@link #ZERO_AT_START}).
 */
public final class LearnerMetrics {

  /**
   * Gauges that start at 0 rather than NaN: the held-out accuracies. Grafana shows an all-NaN series as "No data",
   * and the first evaluation comes only after {@code eval-every} updates (or at the end of the run), so the dashboard's
   * accuracy panel would be empty for most of a short run; 0 until the first evaluation is what its description
   * explains. NaN stays for the other gauges, where 0 would pass for a measurement (a loss, a KL).
   */
  static final Set<Metric> ZERO_AT_START = EnumSet.of(Metric.EVAL_GREEDY_ACCURACY, Metric.EVAL_VOTING_ACCURACY);

  private final Map<Metric, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();
  private final MeterRegistry registry;

  public LearnerMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (Metric m : Metric.values()) {
      AtomicReference<Double> ref = new AtomicReference<>(ZERO_AT_START.contains(m) ? 0.0 : Double.NaN);
      registry.gauge(m.gauge(), ref, AtomicReference::get);
      gauges.put(m, ref);
    }
    for (LearnerEvent e : LearnerEvent.values()) {
      registry.counter(LearnerEvent.COUNTER, "event", e.key());
    }
  }

  /** Sets a gauge. */
  public void set(Metric metric, double value) {
    gauges.get(metric).set(value);
  }

  /** Sets every entry's gauge. */
  public void setAll(Map<Metric, Double> values) {
    values.forEach(this::set);
  }

  /** Counts an event. */
  public void increment(LearnerEvent event) {
    registry.counter(LearnerEvent.COUNTER, "event", event.key()).increment();
  }
}
