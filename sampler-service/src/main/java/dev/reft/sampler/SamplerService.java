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
    if (settings.parallelism() < 1 || settings.batchSize() < 1) {
      throw new IllegalArgumentException("reft.sampler.parallelism and reft.sampler.batch-size must be at least 1, not "
          + settings.parallelism() + " and " + settings.batchSize());
    }
    Log.infof("sampler settings: run=%s instance=%s batch-size=%d max-new-tokens-cap=%d threads=%d%s parallelism=%d "
        + "device=%s", settings.runId(), settings.instanceId(), settings.batchSize(), settings.maxNewTokensCap(),
        settings.threads(), threads ? "" : " (inter-op pool was already started)", settings.parallelism(),
        PolicyRuntime.defaultDevice());
    SamplerMetrics metrics = new SamplerMetrics(registry, holder);
    java.util.function.Function<String, java.util.Optional<String>> lookup = key -> config.getOptionalValue(key, String.class);
    java.util.Map<String, Object> client = KafkaClientConfig.from(config.getPropertyNames(), lookup);
    Log.infof("sampler Kafka clients: %s", KafkaClientConfig.redacted(client));
    watcher = new CheckpointWatcher(client, Topics.CHECKPOINTS.name(lookup), Topics.DEADLETTER.name(lookup),
        settings.runId(), settings.instanceId(), settings.checkpointRoot().map(Path::of), holder, metrics,
        () -> exit("the checkpoint watcher"));
    loop = new SamplingLoop(settings, client, Topics.ROLLOUT_REQUESTS.name(lookup),
        Topics.TRAJECTORIES_SAMPLED.name(lookup), Topics.DEADLETTER.name(lookup), holder, metrics,
        () -> exit("the sampling loop"));
    Thread watcherThread = new Thread(watcher, "checkpoint-watcher");
    watcherThread.setDaemon(true);
    watcherThread.start();
    new Thread(loop, "sampling-loop").start();
  }

  /**
   * A worker thread died while the service was running: exit with status 1 so that the supervisor (the kubelet, or
   * {@code reft demo}'s) starts a fresh process. A live process whose loop is dead would hold its partitions and
   * answer nothing.
   */
  private void exit(String what) {
    if (stopping) {
      return;
    }
    Log.errorf("%s stopped while the sampler was running; exiting with status 1 to be restarted", what);
    io.quarkus.runtime.Quarkus.asyncExit(1);
  }

  private volatile boolean stopping;

  void stop(@Observes ShutdownEvent event) {
    stopping = true;
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
