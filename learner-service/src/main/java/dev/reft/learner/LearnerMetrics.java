package dev.reft.learner;

import dev.reft.learner.metrics.LearnerEvent;
import dev.reft.learner.metrics.Metric;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The learner's Prometheus metrics (at {@code /q/metrics}), named by the catalog: one gauge per {@link Metric}
 * ({@code reft_learner_<key>}) holding its latest value, and the counter {@link LearnerEvent#COUNTER}
 * {@code {event=<key>}} per {@link LearnerEvent}. Gauges exist from start-up (NaN until set), so dashboards
 * show every panel from the first scrape.
 */
public final class LearnerMetrics {

  private final Map<Metric, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();
  private final MeterRegistry registry;

  public LearnerMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (Metric m : Metric.values()) {
      AtomicReference<Double> ref = new AtomicReference<>(Double.NaN);
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
