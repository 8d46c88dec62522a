package dev.reft.cli.demo;

import dev.reft.cli.kafka.KafkaClientOptions;
import dev.reft.cli.kafka.LocalBrokerProcess;
import dev.reft.cli.services.ServiceJars;
import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The services of one {@code reft demo} or {@code reft paper-table} on this machine, each its own process
 * from the jar a cluster would run: a local broker (unless a cluster is given), reward-service, samplers
 * and learner runs. Everything it started is stopped by {@link #close()}, newest first, and by a shutdown
 * hook on Ctrl-C.
 */
final class LocalPipeline implements AutoCloseable {

  private final Path root;
  private final Path home;
  private final Path logs;
  private final Deque<AutoCloseable> started = new ArrayDeque<>();
  private final Thread hook = new Thread(this::stopAll, "reft-pipeline-cleanup");
  private final String servers;
  private final Map<String, Object> client;
  private final Map<String, String> env;
  private final Supervisor supervisor;
  /** The broker this pipeline started, with its ports (null when given a cluster). */
  private LocalBrokerProcess broker;
  private int brokerPort;
  private int controllerPort;

  /**
   * Builds the services if needed, starts a broker under {@code home} unless {@code bootstrap} is given, and
   * creates the catalog's topics. A service is restarted at most {@value Supervisor#MAX_RESTARTS} times in
   * {@link Supervisor#WINDOW}.
   *
   * @param kafka the client settings of the given cluster (security); unused for the local broker
   * @param keepBroker leave the started broker and its data running after {@link #close()}
   */
  LocalPipeline(Path home, String bootstrap, KafkaClientOptions kafka, boolean keepBroker) throws Exception {
    this(home, bootstrap, kafka, keepBroker, Supervisor.MAX_RESTARTS);
  }

  /** As above, allowing {@code maxRestarts} restarts of one service in {@link Supervisor#WINDOW}. */
  LocalPipeline(Path home, String bootstrap, KafkaClientOptions kafka, boolean keepBroker, int maxRestarts)
      throws Exception {
    if (bootstrap != null) {
      LocalBrokerProcess.requireReachable(kafka.client(bootstrap)); // before building anything
    }
    this.supervisor = new Supervisor(System.out, maxRestarts);
    this.root = ServiceJars.root();
    this.home = home;
    this.logs = home.resolve("logs");
    ServiceJars.ensureBuilt(root, ServiceJars.SERVICES);
    Files.createDirectories(logs);
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      this.servers = bootstrap != null ? bootstrap : startBroker(keepBroker);
      this.client = bootstrap != null ? kafka.client(bootstrap) : Map.of("bootstrap.servers", servers);
      try (var admin = LocalBrokerProcess.admin(client)) {
        LocalKafkaBroker.createTopics(admin, Topics.newTopics(k -> Optional.empty(), (short) 1));
      }
    } catch (Exception | Error e) {
      close();
      throw e;
    }
    Map<String, String> e = new HashMap<>(KafkaClientOptions.asEnvironment(client));
    e.put("OMP_WAIT_POLICY", "PASSIVE");
    this.env = Map.copyOf(e);
  }

  /** The client properties of the cluster the services use (bootstrap servers and security). */
  Map<String, Object> client() {
    return client;
  }

  /** The Kafka cluster the services use. */
  String servers() {
    return servers;
  }

  Path logs() {
    return logs;
  }

  /** Registers something to close with the pipeline (a monitor, say). */
  void manage(AutoCloseable c) {
    started.push(c);
  }

  /**
   * Starts reward-service (one stream thread, one sandbox worker: the 2-core budget), waits until it is ready,
   * and keeps it running.
   */
  Supervisor.Kept startReward(String applicationId) {
    Supervisor.Kept reward = supervisor.keep("reward-service", () -> {
      ServiceProcess p = start("reward-service", "reward-service", Map.of(
          "reft.reward.stream-threads", "1", "reft.sandbox.workers", "1",
          "quarkus.kafka-streams.application-id", applicationId), "768m");
      p.awaitReady(Duration.ofSeconds(180));
      return p;
    });
    started.push(reward);
    return reward;
  }

  /**
   * Starts a sampler serving {@code runId} and keeps it running: one intra-op thread per generation batch and
   * {@code parallelism} batches at the same time. It is ready once it serves a policy, so wait only when the run has
   * already published one; otherwise it loads the run's version 0 when the learner publishes it.
   */
  Supervisor.Kept startSampler(String runId, boolean awaitReady, int parallelism) {
    Supervisor.Kept sampler = supervisor.keep("sampler-" + runId, () -> {
      ServiceProcess p = start("sampler-" + runId, "sampler-service", Map.of("reft.sampler.run-id", runId,
          "reft.sampler.threads", "1", "reft.sampler.batch-size", "64",
          "reft.sampler.parallelism", Integer.toString(parallelism)), "1g");
      if (awaitReady) {
        p.awaitReady(Duration.ofSeconds(180));
      }
      return p;
    });
    started.push(sampler);
    return sampler;
  }

  /**
   * Runs a learner mode that ends by itself, restarting it if it exits unexpectedly (it resumes from its newest
   * checkpoint); fails with the log's tail if it keeps failing.
   */
  void runLearner(String name, Map<String, String> props, RunMonitor monitor) throws InterruptedException {
    supervisor.runToCompletion(name, () -> start(name, "learner-service", props, "3g"), monitor::endLine);
    monitor.endLine();
  }

  /** Why the run must stop (a service that keeps failing), or null. */
  String failure() {
    return supervisor.failure();
  }

  /** Stops one thing this pipeline started. */
  void stop(AutoCloseable c) throws Exception {
    started.remove(c);
    c.close();
  }

  private ServiceProcess start(String name, String module, Map<String, String> props, String heap) {
    return ServiceProcess.start(name, ServiceJars.jar(root, module), LocalKafkaBroker.freePort(),
        new HashMap<>(props), env, heap, logs.resolve(name + ".log"));
  }

  /** The supervisor of this pipeline's services. */
  Supervisor supervisor() {
    return supervisor;
  }

  /** Whether this pipeline runs its own broker (and can restart it). */
  boolean ownsBroker() {
    return broker != null;
  }

  /**
   * Restarts this pipeline's broker: stops it (SIGTERM, up to 60 s for a clean shutdown, then SIGKILL) and starts it
   * again on the same log directory and ports — the old process has exited before the new one starts, so two brokers
   * never share the log directory.
   *
   * @return seconds the broker was unavailable
   */
  double restartBroker() {
    if (broker == null) {
      throw new IllegalStateException("this pipeline uses a cluster it did not start");
    }
    long t0 = System.nanoTime();
    broker.stop(Duration.ofSeconds(60));
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      try {
        broker.start(brokerPort, controllerPort, Duration.ofSeconds(120));
        break;
      } catch (IllegalStateException portStillTaken) {
        if (System.nanoTime() > deadline || broker.running().isPresent()) {
          throw portStillTaken;
        }
        try {
          Thread.sleep(500);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw portStillTaken;
        }
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private String startBroker(boolean keepBroker) {
    LocalBrokerProcess broker = new LocalBrokerProcess(home.resolve("kafka"));
    int port = LocalKafkaBroker.freePort();
    int controller = LocalKafkaBroker.freePort();
    broker.start(port, controller, Duration.ofSeconds(90));
    this.broker = broker;
    this.brokerPort = port;
    this.controllerPort = controller;
    if (keepBroker) {
      System.out.println("the broker keeps running after this command: ./reft kafka stop --dir " + broker.home());
    } else {
      started.addLast(() -> {
        broker.stop(Duration.ofSeconds(30));
        deleteRecursively(broker.dataDir());
      });
    }
    return "localhost:" + port;
  }

  /** Stops everything this pipeline started, newest first. */
  private synchronized void stopAll() {
    while (!started.isEmpty()) {
      AutoCloseable c = started.pop();
      try {
        c.close();
      } catch (Exception e) {
        System.err.println("reft: stopping " + c + ": " + e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException alreadyShuttingDown) {
      // Ctrl-C: the hook runs stopAll
    }
  }

  private static void deleteRecursively(Path p) {
    try (var walk = Files.walk(p)) {
      walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (Exception ignored) {
      // best effort
    }
  }
}
