package dev.reft.sampler;

import dev.reft.policy.PolicyRuntime;
import dev.reft.schemas.KafkaClientConfig;
import dev.reft.schemas.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.file.Path;
import org.eclipse.microprofile.config.Config;

/**
 * The sampler's wiring: on start, the checkpoint watcher (loads and verifies policy versions) and the
 * sampling loop (requests in, trajectories out, transactionally) each on their own thread.
 */
@ApplicationScoped
public class SamplerService {

  @Inject SamplerSettings settings;
  @Inject PolicyHolder holder;
  @Inject MeterRegistry registry;
  @Inject Config config;

  private CheckpointWatcher watcher;
  private SamplingLoop loop;

  void start(@Observes StartupEvent event) {
    boolean threads = PolicyRuntime.configureThreads(settings.threads(), 1);
    PolicyRuntime.configureDevice(config.getOptionalValue(PolicyRuntime.DEVICE_PROPERTY, String.class).orElse("auto"));
    Log.infof("sampler settings: run=%s instance=%s batch-size=%d max-new-tokens-cap=%d threads=%d%s device=%s",
        settings.runId(), settings.instanceId(), settings.batchSize(), settings.maxNewTokensCap(), settings.threads(),
        threads ? "" : " (inter-op pool was already started)", PolicyRuntime.defaultDevice());
    SamplerMetrics metrics = new SamplerMetrics(registry, holder);
    java.util.function.Function<String, java.util.Optional<String>> lookup = key -> config.getOptionalValue(key, String.class);
    java.util.Map<String, Object> client = KafkaClientConfig.from(config.getPropertyNames(), lookup);
    Log.infof("sampler Kafka clients: %s", KafkaClientConfig.redacted(client));
    watcher = new CheckpointWatcher(client, Topics.CHECKPOINTS.name(lookup), settings.runId(),
        settings.checkpointRoot().map(Path::of), holder, metrics);
    loop = new SamplingLoop(settings, client, Topics.ROLLOUT_REQUESTS.name(lookup),
        Topics.TRAJECTORIES_SAMPLED.name(lookup), Topics.DEADLETTER.name(lookup), holder, metrics);
    Thread watcherThread = new Thread(watcher, "checkpoint-watcher");
    watcherThread.setDaemon(true);
    watcherThread.start();
    new Thread(loop, "sampling-loop").start();
  }

  void stop(@Observes ShutdownEvent event) {
    if (watcher != null) {
      watcher.stop();
    }
    if (loop != null) {
      loop.stop();
    }
  }

  /** Whether the sampling loop runs (liveness). */
  public boolean loopAlive() {
    return loop == null || loop.isAlive();
  }
}
