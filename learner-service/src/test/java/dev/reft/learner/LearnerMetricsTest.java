package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.learner.metrics.LearnerEvent;
import dev.reft.learner.metrics.Metric;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * What the learner's {@code /q/metrics} shows before anything happened: the dashboard's held-out accuracy at 0 (not
 * NaN, which Grafana shows as "No data"), every other gauge NaN (not measured yet), every event counter at 0.
 */
class LearnerMetricsTest {

  @Test
  void everySeriesExistsFromStartUp() {
    MeterRegistry registry = new SimpleMeterRegistry();
    LearnerMetrics metrics = new LearnerMetrics(registry);
    assertThat(registry.get(Metric.EVAL_GREEDY_ACCURACY.gauge()).gauge().value()).isZero();
    assertThat(registry.get(Metric.EVAL_VOTING_ACCURACY.gauge()).gauge().value()).isZero();
    assertThat(registry.get(Metric.KL_TO_REF.gauge()).gauge().value()).isNaN();
    assertThat(registry.get(Metric.EVAL_CHEAPEST_PATH_SHARE.gauge()).gauge().value()).isNaN();
    for (LearnerEvent e : LearnerEvent.values()) {
      assertThat(registry.get(LearnerEvent.COUNTER).tag("event", e.key()).counter().count()).as(e.key()).isZero();
    }
    metrics.set(Metric.EVAL_GREEDY_ACCURACY, 0.25);
    metrics.increment(LearnerEvent.DROPPED_STALE);
    assertThat(registry.get(Metric.EVAL_GREEDY_ACCURACY.gauge()).gauge().value()).isEqualTo(0.25);
    assertThat(registry.get(LearnerEvent.COUNTER).tag("event", "dropped_stale").counter().count()).isEqualTo(1);
  }
}
