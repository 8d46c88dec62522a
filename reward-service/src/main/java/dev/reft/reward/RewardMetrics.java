package dev.reft.reward;

import dev.reft.schemas.DeadLetters;
import dev.reft.schemas.RewardStats;
import dev.reft.schemas.RewardedTrajectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;

/**
 * The reward service's Prometheus metrics (at {@code /q/metrics}):
 *
 * <ul>
 *   <li>{@code reft_reward_trajectories_total{outcome,style}} — trajectories graded;
 *   <li>{@code reft_reward_sum_total{style}} — sum of task rewards handed out;
 *   <li>{@code reft_reward_execution_seconds{style}} — grading time (P-CoT: sandbox execution), histogram;
 *   <li>{@code reft_reward_deadletters_total{stage}} — records sent to the dead-letter topic;
 *   <li>{@code reft_reward_version_accuracy{run,version}}, {@code reft_reward_version_mean_reward{run,version}},
 *       {@code reft_reward_version_count{run,version}} — per policy version, for the newest versions.
 * </ul>
 */
public final class RewardMetrics {

  /** How many policy versions keep per-version gauges (older ones are removed). */
  static final int VERSIONS_KEPT = 20;

  private final MeterRegistry registry;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<VersionKey, RewardStats> latest = new ConcurrentSkipListMap<>();

  /**
   * Registers the counters and histograms of every style, outcome and dead-letter stage at zero, so that a
   * dashboard's queries return series from the first scrape on (a rate of an absent counter is no data, not 0).
   */
  public RewardMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (dev.reft.schemas.CotStyle style : dev.reft.schemas.CotStyle.values()) {
      for (dev.reft.schemas.Outcome outcome : dev.reft.schemas.Outcome.values()) {
        counter("reft_reward_trajectories_total", Tags.of("outcome", outcome.name(), "style", style.name()));
      }
      counter("reft_reward_sum_total", Tags.of("style", style.name()));
      timer(style.name());
    }
    for (DeadLetters.Stage stage : DeadLetters.Stage.values()) {
      counter("reft_reward_deadletters_total", Tags.of("stage", stage.name()));
    }
  }

  private Timer timer(String style) {
    return timers.computeIfAbsent(style, s -> Timer.builder("reft_reward_execution_seconds")
        .description("Time to grade one trajectory (P-CoT: run the program in the sandbox)")
        .tags("style", s)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(100_000))
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry));
  }

  /** Counts one graded trajectory. */
  public void onScored(RewardedTrajectory r) {
    String style = r.getTrajectory().getStyle().name();
    counter("reft_reward_trajectories_total", Tags.of("outcome", r.getOutcome().name(), "style", style)).increment();
    counter("reft_reward_sum_total", Tags.of("style", style)).increment(r.getReward());
    timer(style).record(r.getExecutionMicros(), TimeUnit.MICROSECONDS);
  }

  /** Counts one dead letter. */
  public void onDeadLetter(DeadLetters.Stage stage) {
    counter("reft_reward_deadletters_total", Tags.of("stage", stage.name())).increment();
  }

  /** Publishes the newest totals of a policy version as gauges. */
  public void onStats(RewardStats stats) {
    VersionKey key = new VersionKey(stats.getRunId(), stats.getPolicyVersion());
    boolean fresh = latest.put(key, stats) == null;
    if (fresh) {
      Tags tags = Tags.of("run", key.run(), "version", Long.toString(key.version()));
      registry.gauge("reft_reward_version_accuracy", tags, key, k -> value(k, RewardStats::getAccuracy));
      registry.gauge("reft_reward_version_mean_reward", tags, key, k -> value(k, RewardStats::getMeanReward));
      registry.gauge("reft_reward_version_count", tags, key, k -> value(k, s -> (double) s.getCount()));
      while (latest.size() > VERSIONS_KEPT) {
        VersionKey oldest = latest.pollFirstEntry().getKey();
        Tags old = Tags.of("run", oldest.run(), "version", Long.toString(oldest.version()));
        for (String name : new String[] {"reft_reward_version_accuracy", "reft_reward_version_mean_reward",
            "reft_reward_version_count"}) {
          var gauge = registry.find(name).tags(old).gauge();
          if (gauge != null) {
            registry.remove(gauge);
          }
        }
      }
    }
  }

  private double value(VersionKey key, java.util.function.ToDoubleFunction<RewardStats> f) {
    RewardStats s = latest.get(key);
    return s == null ? Double.NaN : f.applyAsDouble(s);
  }

  private Counter counter(String name, Tags tags) {
    return counters.computeIfAbsent(name + tags, k -> registry.counter(name, tags));
  }

  /** Orders versions by run, then version. */
  record VersionKey(String run, long version) implements Comparable<VersionKey> {
    @Override
    public int compareTo(VersionKey o) {
      int c = Long.compare(version, o.version);
      return c != 0 ? c : run.compareTo(o.run);
    }
  }
}
