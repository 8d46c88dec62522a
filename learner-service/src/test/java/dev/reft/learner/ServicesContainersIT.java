package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.TopicReader;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The three service images, as Jib builds them, against Kafka in a container: the learner in mode {@code auto} runs
 * the warm-up SFT and then one ReFT (PPO) update through the sampler and reward containers, each configured only by
 * the environment variables the Kubernetes manifests use. What this adds to {@link SecuredPipelineIT}, which runs the
 * same jars as processes: the base image's Java and shared libraries, the image's uid 185 and entrypoint, DJL's
 * natives extracted inside the container, and checkpoints handed from learner to sampler through a shared volume.
 *
 * <p>Needs Docker and the images: {@code -Ptestcontainers} builds them into the local Docker daemon and sets
 * {@code reft.it.images} (see the root pom). Without Docker it is skipped, which the default build shows.
 */
@Testcontainers(disabledWithoutDocker = true)
@EnabledIfSystemProperty(named = "reft.it.images", matches = ".*%s.*",
    disabledReason = "no service images: run with -Ptestcontainers, which builds them and sets reft.it.images")
class ServicesContainersIT {

  private static final String RUN = "containers-it";
  private static final String KAFKA_IMAGE = "apache/kafka:4.1.0";
  /** Kafka as the other containers reach it on the test network. */
  private static final String KAFKA_INSIDE = "kafka:19092";

  /** The host directory the learner writes checkpoints to and the sampler reads them from. */
  private Path checkpoints;

  @Test
  void theImagesWarmUpThenTrainOnePpoUpdate(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    checkpoints = Files.createDirectory(dir.resolve("checkpoints"));
    // The containers run as the images' uid 185, not as whoever runs the test.
    Files.setPosixFilePermissions(checkpoints, PosixFilePermissions.fromString("rwxrwxrwx"));
    try (Network network = Network.newNetwork();
        KafkaContainer kafka = new KafkaContainer(KAFKA_IMAGE).withNetwork(network).withListener(KAFKA_INSIDE)) {
      kafka.start();
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBootstrapServers()))) {
        admin.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1)).all().get();
      }
      try (GenericContainer<?> reward = service("reward-service", 8082, network, null, "512m", Map.of(
              // N-CoT only: the P-CoT sandbox needs user namespaces a default container does not allow.
              "REFT_SANDBOX_MODE", "off",
              "REFT_REWARD_STREAM_THREADS", "1"));
          GenericContainer<?> sampler = service("sampler-service", 8083, network, BindMode.READ_ONLY, "1g", Map.of(
              "REFT_SAMPLER_INSTANCE_ID", "sampler-0",
              "REFT_SAMPLER_THREADS", "1",
              "REFT_SAMPLER_BATCH_SIZE", "16"));
          GenericContainer<?> learner = service("learner-service", 8081, network, BindMode.READ_WRITE, "2g",
              learnerEnv())) {
        reward.start();
        sampler.start();
        learner.start();
        List<LearnerUpdate> updates = TopicReader.readUntil(kafka.getBootstrapServers(),
                Topics.LEARNER_UPDATES.defaultName(), Topics.LEARNER_UPDATES.keySerde().deserializer(),
                Topics.LEARNER_UPDATES.valueSerde().deserializer(), Duration.ofMinutes(10),
                got -> got.stream().anyMatch(r -> isReft(r.value())))
            .stream().map(ConsumerRecord::value).filter(ServicesContainersIT::isReft).toList();
        String logs = String.format("learner log:%n%s%nsampler log:%n%s%nreward log:%n%s",
            tail(learner, 40), tail(sampler, 20), tail(reward, 20));
        assertThat(updates).as("one PPO update trained on graded trajectories; %s", logs).hasSize(1);
        assertThat(updates.get(0).getMetrics().get("trajectories")).isPositive();
        assertThat(learner.getLogs()).contains("warm-up SFT first, then ReFT");
        // The learner stays up after its last update (as in k8s/base), ready, and soon says it is done.
        String ready = get(learner, 8081, "/q/health/ready");
        for (int i = 0; i < 60 && !ready.contains("done"); i++) {
          Thread.sleep(1_000);
          ready = get(learner, 8081, "/q/health/ready");
        }
        assertThat(ready).as(logs).startsWith("200 ").contains("done");
        assertThat(get(sampler, 8083, "/q/health/ready")).as(logs).startsWith("200 ");
      }
    }
    handBack(checkpoints);
  }

  /** The learner's settings: a tiny synthetic run, as {@link LearnerRig#settings} and SecuredPipelineIT use. */
  private static Map<String, String> learnerEnv() {
    Map<String, String> env = new HashMap<>(Map.of(
        "REFT_LEARNER_MODE", "auto",
        "REFT_LEARNER_EXIT_WHEN_DONE", "false",
        "REFT_LEARNER_THREADS", "1",
        "REFT_LEARNER_SYNTHETIC_TASK", "orders",
        "REFT_LEARNER_SYNTHETIC_TRAIN_SIZE", "32",
        "REFT_LEARNER_SYNTHETIC_TEST_SIZE", "20",
        "REFT_LEARNER_SYNTHETIC_HARD_SIZE", "10",
        "REFT_LEARNER_EVAL_VOTING_K", "0"));
    env.putAll(Map.of(
        "REFT_LEARNER_SFT_EPOCHS", "1",
        "REFT_LEARNER_SFT_EVAL_PROBLEMS", "0",
        "REFT_LEARNER_SFT_FINAL_EVAL", "false",
        "REFT_LEARNER_REFT_TOTAL_UPDATES", "1",
        "REFT_LEARNER_REFT_EVAL_EVERY", "0",
        "REFT_LEARNER_REFT_FINAL_EVAL", "false",
        "REFT_PPO_QUESTIONS_PER_BATCH", "4",
        "REFT_PPO_SAMPLES_PER_QUESTION", "2",
        "REFT_PPO_MAX_NEW_TOKENS", "32"));
    return env;
  }

  /**
   * A service's container: the shared settings of {@code k8s/base/config.yaml} (plaintext Kafka here), the shared
   * checkpoints at {@code /checkpoints} mounted {@code mount} (none when null), started once it reports
   * {@code /q/health/started}.
   */
  private GenericContainer<?> service(String name, int port, Network network, BindMode mount, String heap,
      Map<String, String> env) {
    Map<String, String> all = new HashMap<>(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", KAFKA_INSIDE,
        "REFT_RUN_ID", RUN,
        "REFT_CHECKPOINT_DIR", "/checkpoints",
        "REFT_REPLICATION_FACTOR", "1",
        "DJL_CACHE_DIR", "/tmp/djl-cache",
        "JAVA_TOOL_OPTIONS", "-Xmx" + heap));
    all.putAll(env);
    GenericContainer<?> c = new GenericContainer<>(image(name))
        .withNetwork(network)
        .withEnv(all)
        .withExposedPorts(port)
        .waitingFor(Wait.forHttp("/q/health/started").forPort(port).withStartupTimeout(Duration.ofMinutes(3)));
    return mount == null ? c : c.withFileSystemBind(checkpoints.toString(), "/checkpoints", mount);
  }

  /** {@code reft.it.images} with the service's name, e.g. {@code registry.example.com/reft/%s:0.1.0-SNAPSHOT}. */
  private static String image(String service) {
    return String.format(System.getProperty("reft.it.images"), service);
  }

  /**
   * Gives the checkpoints the containers wrote (owned by uid 185) back to the owner of the temporary directory, so
   * that JUnit can delete them: a one-shot root container of the learner image. A failed run keeps them to look at.
   */
  private static void handBack(Path checkpoints) throws Exception {
    Object uid = Files.getAttribute(checkpoints, "unix:uid");
    Object gid = Files.getAttribute(checkpoints, "unix:gid");
    try (GenericContainer<?> chown = new GenericContainer<>(image("learner-service"))
        .withFileSystemBind(checkpoints.toString(), "/checkpoints", BindMode.READ_WRITE)
        .withCreateContainerCmdModifier(cmd -> cmd.withUser("0").withEntrypoint("chown", "-R", uid + ":" + gid,
            "/checkpoints"))
        .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(1)))) {
      chown.start();
    }
  }

  private static boolean isReft(LearnerUpdate u) {
    return RUN.equals(u.getRunId()) && "reft".equals(u.getMode());
  }

  private static String get(GenericContainer<?> c, int port, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://" + c.getHost() + ":" + c.getMappedPort(port) + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  private static String tail(GenericContainer<?> c, int lines) {
    List<String> all = c.getLogs().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }
}
