package dev.reft.cli.demo;

import dev.reft.cli.kafka.LocalBrokerProcess;
import dev.reft.cli.services.ServiceJars;
import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.schemas.EvalResult;
import dev.reft.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft demo}: the whole system on one machine. Builds what is missing, starts a local broker (unless
 * {@code --bootstrap}), runs reward-service, then the learner's warm-up SFT, then sampler-service and the
 * learner's ReFT loop, then (default preset) the best-SFT baseline — each service its own process from the
 * jar a cluster would run — and ends with the held-out accuracy table. Everything it started is stopped on
 * exit or Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Run warm-up SFT and then ReFT on the built-in synthetic task with the three services, and print",
        "the held-out accuracy table. Presets: quick (a few minutes), default (about 20 minutes on 2 cores)."})
public final class DemoCommand implements Callable<Integer> {

  @Option(names = "--preset", defaultValue = "default", description = "quick or default (default: ${DEFAULT-VALUE}).")
  String preset;

  @Option(names = "--style", defaultValue = "ncot", description = "ncot or pcot (P-CoT runs the sandbox) (default: ${DEFAULT-VALUE}).")
  String style;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the model, the data order and sampling (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--bootstrap", description = "Use this Kafka cluster instead of starting a local broker.")
  String bootstrap;

  @Option(names = "--dir", defaultValue = "var/demo", description = "Where runs keep logs and checkpoints (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--keep-broker", description = "Leave the demo's local broker (and its data) running after the demo.")
  boolean keepBroker;

  private final Deque<AutoCloseable> started = new ArrayDeque<>();

  @Override
  public Integer call() throws Exception {
    Preset p = Preset.of(preset);
    Path root = ServiceJars.root();
    ServiceJars.ensureBuilt(root, ServiceJars.SERVICES);
    String runId = "demo-" + style + "-s" + seed + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMdd-HHmmss"));
    Path home = dir.toAbsolutePath().resolve(runId);
    Path logs = home.resolve("logs");
    Path checkpoints = home.resolve("checkpoints");
    Files.createDirectories(logs);
    Thread hook = new Thread(this::stopAll, "reft-demo-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    long t0 = System.nanoTime();
    try {
      String servers = bootstrap != null ? bootstrap : startBroker(home);
      try (var admin = LocalBrokerProcess.admin(servers)) {
        LocalKafkaBroker.createTopics(admin, Topics.newTopics(k -> Optional.empty(), (short) 1));
      }
      System.out.printf("reft demo, preset %s, style %s, seed %d: run %s on %s%n", p.name(), style, seed, runId, servers);
      Map<String, String> env = Map.of("KAFKA_BOOTSTRAP_SERVERS", servers, "OMP_WAIT_POLICY", "PASSIVE");
      RunMonitor monitor = new RunMonitor(servers, runId, System.out);
      Thread monitorThread = new Thread(monitor, "reft-demo-monitor");
      monitorThread.setDaemon(true);
      monitorThread.start();
      started.push(monitor);

      ServiceProcess reward = start("reward-service", root, 18082, Map.of(
          "reft.reward.stream-threads", "1", "reft.sandbox.workers", "1",
          "quarkus.kafka-streams.application-id", "reft-reward-" + runId), env, "768m", logs);
      reward.awaitReady(Duration.ofSeconds(180));

      Map<String, String> learner = learnerSettings(p, runId, checkpoints);
      Map<String, String> warmup = new HashMap<>(learner);
      warmup.putAll(Map.of("reft.learner.mode", "sft", "reft.learner.sft.epochs", Integer.toString(p.warmupEpochs()),
          "reft.learner.sft.schedule-epochs", Integer.toString(p.scheduleEpochs())));
      System.out.println("1/3 warm-up SFT: " + p.warmupEpochs() + " epochs of a " + p.scheduleEpochs() + "-epoch schedule");
      runToCompletion("learner-sft", root, warmup, env, logs, monitor);

      System.out.println("2/3 ReFT: " + p.reftUpdates() + " PPO updates from the warm-up policy (version 0)");
      ServiceProcess sampler = start("sampler-service", root, 18083, Map.of("reft.sampler.run-id", runId,
          "reft.sampler.threads", "1", "reft.sampler.batch-size", "64"), env, "1g", logs);
      sampler.awaitReady(Duration.ofSeconds(180));
      Map<String, String> reft = new HashMap<>(learner);
      reft.putAll(Map.of("reft.learner.mode", "reft", "reft.learner.reft.total-updates", Integer.toString(p.reftUpdates()),
          "reft.learner.reft.eval-every", Integer.toString(p.evalEvery())));
      monitor.expectUpdates(p.reftUpdates());
      runToCompletion("learner-reft", root, reft, env, logs, monitor);
      stop(sampler);

      if (p.bestSftEpochs() > 0) {
        System.out.println("3/3 best-SFT baseline: " + p.bestSftEpochs() + " epochs, keeping the epoch with the best held-out accuracy");
        Map<String, String> best = new HashMap<>(learner);
        best.putAll(Map.of("reft.learner.mode", "sft", "reft.learner.run-id", runId + "-best-sft",
            "reft.learner.sft.epochs", Integer.toString(p.bestSftEpochs()), "reft.learner.sft.keep-best", "true",
            "reft.learner.sft.eval-problems", Integer.toString(Math.min(300, p.testSize()))));
        runToCompletion("learner-best-sft", root, best, env, logs, monitor);
      }
      Thread.sleep(1500); // let the monitor read the last evaluations
      System.out.println();
      System.out.print(table(monitor.evaluations(), runId, p));
      System.out.printf(Locale.ROOT, "%nwall time %.1f min; checkpoints: %s; logs: %s%n", (System.nanoTime() - t0) / 6e10,
          checkpoints, logs);
      return 0;
    } catch (IllegalStateException e) {
      System.err.println("reft demo: " + e.getMessage());
      return 1;
    } finally {
      stopAll();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException alreadyShuttingDown) {
        // Ctrl-C: the hook runs stopAll
      }
    }
  }

  private Map<String, String> learnerSettings(Preset p, String runId, Path checkpoints) {
    Map<String, String> m = new HashMap<>();
    m.put("reft.learner.run-id", runId);
    m.put("reft.learner.style", style);
    m.put("reft.learner.seed", Long.toString(seed));
    m.put("reft.learner.model.seed", Long.toString(seed));
    m.put("reft.learner.checkpoint-dir", checkpoints.toString());
    m.put("reft.learner.synthetic.train-size", Integer.toString(p.trainSize()));
    m.put("reft.learner.synthetic.test-size", Integer.toString(p.testSize()));
    m.put("reft.learner.synthetic.hard-size", Integer.toString(p.hardSize()));
    m.put("reft.learner.sft.eval-problems", "0");
    m.put("reft.learner.eval.voting-k", Integer.toString(p.votingK()));
    m.put("reft.learner.threads", "2");
    return m;
  }

  /** Runs a learner mode that ends by itself, and fails if it does not end well. */
  private void runToCompletion(String name, Path root, Map<String, String> props, Map<String, String> env, Path logs,
      RunMonitor monitor) throws InterruptedException {
    ServiceProcess learner = start(name, root, 18081, props, env, "3g", logs);
    learner.process().waitFor();
    monitor.endLine();
    started.remove(learner);
    if (learner.process().exitValue() != 0) {
      throw new IllegalStateException(name + " failed (exit " + learner.process().exitValue() + "); see "
          + learner.log() + ":\n" + learner.tail(20));
    }
  }

  private ServiceProcess start(String name, Path root, int port, Map<String, String> props, Map<String, String> env,
      String heap, Path logs) {
    String module = name.startsWith("learner") ? "learner-service" : name;
    ServiceProcess s = ServiceProcess.start(name, ServiceJars.jar(root, module), port, props, env, heap,
        logs.resolve(name + ".log"));
    started.push(s);
    return s;
  }

  private String startBroker(Path home) {
    LocalBrokerProcess broker = new LocalBrokerProcess(home.resolve("kafka"));
    int port = LocalKafkaBroker.freePort();
    broker.start(port, LocalKafkaBroker.freePort(), Duration.ofSeconds(90));
    if (!keepBroker) {
      started.addLast(() -> {
        broker.stop(Duration.ofSeconds(30));
        deleteRecursively(broker.dataDir());
      });
    } else {
      System.out.println("the demo's broker keeps running: ./reft kafka stop --dir " + broker.home());
    }
    return "localhost:" + port;
  }

  private void stop(AutoCloseable c) throws Exception {
    started.remove(c);
    c.close();
  }

  /** Stops everything this demo started, newest first. */
  private synchronized void stopAll() {
    while (!started.isEmpty()) {
      AutoCloseable c = started.pop();
      try {
        c.close();
      } catch (Exception e) {
        System.err.println("reft demo: stopping " + c + ": " + e.getMessage());
      }
    }
  }

  /** The held-out table: warm-up SFT vs ReFT vs best SFT, greedy and voting@K, and the harder slice. */
  static String table(List<EvalResult> evals, String runId, Preset p) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-26s %8s %8s %12s %10s%n", "held-out (synthetic)", "version", "greedy",
        "voting@" + p.votingK(), "4-step"));
    row(sb, "warm-up SFT (ReFT start)", finalEval(evals, runId, "sft", "synthetic-test"), finalEval(evals, runId, "sft", "synthetic-hard"));
    row(sb, "ReFT", finalEval(evals, runId, "reft", "synthetic-test"), finalEval(evals, runId, "reft", "synthetic-hard"));
    row(sb, "best SFT", finalEval(evals, runId + "-best-sft", "sft", "synthetic-test"),
        finalEval(evals, runId + "-best-sft", "sft", "synthetic-hard"));
    return sb.toString();
  }

  private static Optional<EvalResult> finalEval(List<EvalResult> evals, String run, String mode, String dataset) {
    return evals.stream().filter(e -> e.getRunId().equals(run) && e.getMode().equals(mode) && e.getDataset().equals(dataset))
        .filter(e -> !dataset.equals("synthetic-test") || e.getVotingAccuracy() != null)
        .max(Comparator.comparingLong(EvalResult::getPolicyVersion).thenComparing(EvalResult::getCreatedAt));
  }

  private static void row(StringBuilder sb, String name, Optional<EvalResult> test, Optional<EvalResult> hard) {
    if (test.isEmpty()) {
      sb.append(String.format(Locale.ROOT, "%-26s %8s%n", name, "(not run)"));
      return;
    }
    EvalResult e = test.get();
    sb.append(String.format(Locale.ROOT, "%-26s %8s %7.1f%% %11s %10s%n", name, "v" + e.getPolicyVersion(),
        100 * e.getGreedyAccuracy(),
        e.getVotingAccuracy() == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * e.getVotingAccuracy()),
        hard.map(h -> String.format(Locale.ROOT, "%.1f%%", 100 * h.getGreedyAccuracy())).orElse("-")));
  }

  private static void deleteRecursively(Path p) {
    try (var walk = Files.walk(p)) {
      walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (Exception ignored) {
      // best effort
    }
  }
}
