package dev.reft.sampler;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * The sampler's Prometheus metrics (at {@code /q/metrics}):
 *
 * <ul>
 *   <li>{@code reft_sampler_tokens_total}, {@code reft_sampler_trajectories_total} — generated; their rates
 *       are tokens/s and trajectories/s; {@code reft_sampler_tokens_per_second} — of the last batch;
 *   <li>{@code reft_sampler_batch_fill} — sequences in the last batch / batch size;
 *   <li>{@code reft_sampler_policy_version} — the version being served; {@code reft_sampler_policy_version_loaded}
 *       — the newest verified version, served from the next batch on;
 *   <li>{@code reft_sampler_checkpoint_load_seconds} — verify + load time; {@code reft_sampler_checkpoints_refused_total};
 *   <li>{@code reft_sampler_request_queue_depth} — requests waiting in the assigned partitions (consumer lag);
 *   <li>{@code reft_sampler_deadletters_total}, {@code reft_sampler_requests_ignored_total} (other runs),
 *       {@code reft_sampler_checkpoint_events_undecodable_total};
 *   <li>{@code kafka_consumer_*}, {@code kafka_producer_*} — the Kafka clients' own metrics ({@link #bind}), among
 *       them {@code kafka_consumer_fetch_manager_records_lag_max{client_id}}, the consumer lag the clients see.
 * </ul>
 *
 * <p>The counters exist from start-up at zero, so that their rates are 0, not "No data", before the first event.
 */
public final class SamplerMetrics {

  final Counter tokens;
  final Counter trajectories;
  final Counter refused;
  final Counter deadLetters;
  final Counter ignored;
  final Counter undecodableCheckpointEvents;
  final Timer checkpointLoad;
  final Timer batchTime;
  private final AtomicLong lastTokensPerSecond = new AtomicLong();
  private final AtomicLong batchFillPermille = new AtomicLong();
  private final AtomicLong queueDepth = new AtomicLong();
  private final MeterRegistry registry;

  public SamplerMetrics(MeterRegistry registry, PolicyHolder holder) {
    this.registry = registry;
    tokens = registry.counter("reft_sampler_tokens_total");
    trajectories = registry.counter("reft_sampler_trajectories_total");
    refused = registry.counter("reft_sampler_checkpoints_refused_total");
    deadLetters = registry.counter("reft_sampler_deadletters_total");
    ignored = registry.counter("reft_sampler_requests_ignored_total");
    undecodableCheckpointEvents = registry.counter("reft_sampler_checkpoint_events_undecodable_total");
    checkpointLoad = Timer.builder("reft_sampler_checkpoint_load_seconds").register(registry);
    batchTime = Timer.builder("reft_sampler_batch_seconds").publishPercentileHistogram().register(registry);
    gauge(registry, "reft_sampler_tokens_per_second", lastTokensPerSecond, AtomicLong::doubleValue);
    gauge(registry, "reft_sampler_batch_fill", batchFillPermille, v -> v.get() / 1000.0);
    gauge(registry, "reft_sampler_request_queue_depth", queueDepth, AtomicLong::doubleValue);
    registry.gauge("reft_sampler_policy_version", holder, h -> h.servedVersion());
    registry.gauge("reft_sampler_policy_version_loaded", holder, h -> h.newestVersion());
  }

  private static <T> void gauge(MeterRegistry registry, String name, T state, ToDoubleFunction<T> f) {
    registry.gauge(name, state, f);
  }

  /**
   * Publishes a Kafka client's own metrics (Micrometer's binder; Quarkus binds only the clients it creates, and
   * these are built by hand) until the returned binder is closed: close it before the client, so that a closed
   * client leaves no stale series.
   */
  KafkaClientMetrics bind(Consumer<?, ?> client) {
    KafkaClientMetrics m = new KafkaClientMetrics(client);
    m.bindTo(registry);
    return m;
  }

  /** As {@link #bind(Consumer)}, for a producer. */
  KafkaClientMetrics bind(Producer<?, ?> client) {
    KafkaClientMetrics m = new KafkaClientMetrics(client);
    m.bindTo(registry);
    return m;
  }

  /** Records one generation batch. */
  void onBatch(int sequences, int batchSize, long generatedTokens, long nanos) {
    tokens.increment(generatedTokens);
    trajectories.increment(sequences);
    batchTime.record(nanos, TimeUnit.NANOSECONDS);
    lastTokensPerSecond.set(nanos == 0 ? 0 : Math.round(generatedTokens / (nanos / 1e9)));
    batchFillPermille.set(Math.round(1000.0 * sequences / batchSize));
  }

  void queueDepth(long depth) {
    queueDepth.set(depth);
  }
}
