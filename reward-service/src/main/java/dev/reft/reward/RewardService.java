package dev.reft.reward;

import dev.reft.tasks.Grader;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.apache.kafka.streams.Topology;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The service's wiring: starts the P-CoT sandbox, builds the topology from the catalog and hands it to
 * Quarkus' Kafka Streams extension, which runs it with the {@code kafka-streams.*} settings.
 */
@ApplicationScoped
public class RewardService {

  @Inject Config config;
  @Inject MeterRegistry registry;

  @ConfigProperty(name = "reft.reward.instance-id")
  String instanceId;

  /** The P-CoT sandbox, started with the topology at start-up and stopped at shutdown. */
  @Produces
  @Singleton
  PythonSandbox sandbox() {
    SandboxConfig sandboxConfig = SandboxConfig.from(key -> config.getOptionalValue(key, String.class));
    Log.infof("starting the P-CoT sandbox: %s", sandboxConfig.summary());
    return PythonSandbox.start(sandboxConfig);
  }

  void stopSandbox(@Disposes PythonSandbox sandbox) {
    sandbox.close();
  }

  /** The topology Quarkus runs. */
  @Produces
  Topology topology(PythonSandbox sandbox) {
    RewardTopology.TopicNames names = RewardTopology.TopicNames.from(key -> config.getOptionalValue(key, String.class));
    Log.infof("reward-service %s: %s -> %s (stats %s, dead letters %s)", instanceId, names.sampled(),
        names.rewarded(), names.stats(), names.deadLetter());
    TrajectoryScorer scorer = new TrajectoryScorer(new Grader(sandbox), "reward-service/" + instanceId);
    return RewardTopology.build(names, scorer, new RewardMetrics(registry), "reward-service/" + instanceId);
  }
}
