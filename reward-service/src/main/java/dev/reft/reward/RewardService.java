package dev.reft.reward;

import dev.reft.tasks.Grader;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.streams.Topology;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The service's wiring: starts the P-CoT sandbox (unless {@code reft.sandbox.mode=off}), builds the topology from
 * the catalog and hands it to Quarkus' Kafka Streams extension, which runs it with the {@code kafka-streams.*}
 * settings and the service's {@code kafka.*} client settings (bootstrap servers, security).
 *
 * <p>With the sandbox off the service grades N-CoT (and MCQ) only, and needs no user namespaces — it runs under
 * Pod Security "restricted". A P-CoT trajectory is then dead-lettered with the reason (see
 * {@link TrajectoryScorer}); it does not stop the service.
 */
@ApplicationScoped
public class RewardService {

  @Inject Config config;
  @Inject MeterRegistry registry;

  @ConfigProperty(name = "reft.reward.instance-id")
  String instanceId;

  private volatile PythonSandbox sandbox;
  private volatile boolean sandboxOff;

  /** The P-CoT sandbox, started with the topology; empty when {@code reft.sandbox.mode=off}. */
  public synchronized Optional<PythonSandbox> sandbox() {
    return Optional.ofNullable(sandbox);
  }

  /** Whether the configuration turned the sandbox off. */
  public boolean sandboxOff() {
    return sandboxOff;
  }

  /** The topology Quarkus runs. */
  @Produces
  Topology topology() {
    Function<String, Optional<String>> lookup = key -> config.getOptionalValue(key, String.class);
    String scorerId = "reward-service/" + instanceId;
    TrajectoryScorer scorer;
    if (SandboxConfig.off(lookup)) {
      sandboxOff = true;
      scorer = TrajectoryScorer.withoutPrograms(scorerId);
      Log.infof("the P-CoT sandbox is off (reft.sandbox.mode=off): grading N-CoT and MCQ only; P-CoT trajectories "
          + "are dead-lettered");
    } else {
      SandboxConfig sandboxConfig = SandboxConfig.from(lookup);
      Log.infof("starting the P-CoT sandbox: %s", sandboxConfig.summary());
      synchronized (this) {
        if (sandbox == null) {
          sandbox = PythonSandbox.start(sandboxConfig);
        }
      }
      scorer = new TrajectoryScorer(new Grader(sandbox), scorerId);
    }
    RewardTopology.TopicNames names = RewardTopology.TopicNames.from(lookup);
    Log.infof("reward-service %s: %s -> %s (stats %s, dead letters %s)", instanceId, names.sampled(),
        names.rewarded(), names.stats(), names.deadLetter());
    return RewardTopology.build(names, scorer, metrics(), scorerId);
  }

  private RewardMetrics metrics;

  /** The service's metrics (one instance, registered eagerly). */
  synchronized RewardMetrics metrics() {
    if (metrics == null) {
      metrics = new RewardMetrics(registry);
    }
    return metrics;
  }

  @PreDestroy
  synchronized void stopSandbox() {
    if (sandbox != null) {
      sandbox.close();
      sandbox = null;
    }
  }
}
