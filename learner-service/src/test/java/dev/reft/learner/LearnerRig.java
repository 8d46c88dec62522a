package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The services as processes for the learner's integration tests: settings, warm-up, reward and sampler. */
final class LearnerRig {

  private LearnerRig() {}

  /**
   * Learner settings for a small synthetic run writing checkpoints under {@code dir}. The ITs use the small
   * {@code orders} task (no facts added to the training set) so that their warm-ups stay short; the default
   * {@code paths} task has its own tests in {@code tasks}.
   */
  static Map<String, String> settings(String run, Path dir, int trainSize) {
    return new HashMap<>(Map.of(
        "reft.learner.run-id", run,
        "reft.learner.synthetic.task", "orders",
        "reft.learner.checkpoint-dir", dir.resolve("checkpoints").toString(),
        "reft.learner.synthetic.train-size", Integer.toString(trainSize),
        "reft.learner.synthetic.test-size", "20",
        "reft.learner.synthetic.hard-size", "10",
        "reft.learner.eval.voting-k", "0",
        "reft.learner.threads", "1"));
  }

  /** Runs the warm-up SFT to completion. */
  static void warmUp(LocalKafkaBroker broker, Path dir, Map<String, String> settings, int epochs) throws Exception {
    Map<String, String> sft = new HashMap<>(settings);
    sft.putAll(Map.of("reft.learner.mode", "sft", "reft.learner.sft.epochs", Integer.toString(epochs),
        "reft.learner.sft.eval-problems", "0"));
    try (ServiceProcess warmup = learner(broker, dir, sft, "sft.log")) {
      assertThat(warmup.process().waitFor(300, TimeUnit.SECONDS)).as("warm-up finished").isTrue();
      assertThat(warmup.process().exitValue()).as("warm-up log:%n%s", warmup.tail(30)).isZero();
    }
  }

  static ServiceProcess learner(LocalKafkaBroker broker, Path dir, Map<String, String> props, String log) {
    return learner(Map.of("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers()), dir, props, log);
  }

  /** The learner with this environment (its Kafka settings: {@code KAFKA_*} variables). */
  static ServiceProcess learner(Map<String, String> env, Path dir, Map<String, String> props, String log) {
    return ServiceProcess.start("learner-service", Path.of("target", "quarkus-app", "quarkus-run.jar"),
        LocalKafkaBroker.freePort(), props, env, "2g", dir.resolve(log));
  }

  static ServiceProcess reward(LocalKafkaBroker broker, Path dir) {
    return reward(Map.of("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers()), dir, Map.of());
  }

  /** reward-service with this environment and these extra properties. */
  static ServiceProcess reward(Map<String, String> env, Path dir, Map<String, String> extra) {
    Map<String, String> props = new HashMap<>(Map.of("reft.reward.stream-threads", "1", "reft.sandbox.workers", "1"));
    props.putAll(extra);
    return ServiceProcess.start("reward-service", jar("reward-service"), LocalKafkaBroker.freePort(), props, env,
        "512m", dir.resolve("reward.log"));
  }

  static ServiceProcess sampler(LocalKafkaBroker broker, Path dir, String run, int batchSize) {
    return sampler(Map.of("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers()), dir, run, batchSize);
  }

  /** A sampler with this environment. */
  static ServiceProcess sampler(Map<String, String> env, Path dir, String run, int batchSize) {
    return ServiceProcess.start("sampler-service", jar("sampler-service"), LocalKafkaBroker.freePort(),
        Map.of("reft.sampler.run-id", run, "reft.sampler.threads", "1", "reft.sampler.batch-size", Integer.toString(batchSize)),
        env, "1g", dir.resolve("sampler.log"));
  }

  /** A sibling module's packaged service (the reactor builds it before this module's integration tests). */
  private static Path jar(String module) {
    return Path.of("..", module, "target", "quarkus-app", "quarkus-run.jar");
  }
}
