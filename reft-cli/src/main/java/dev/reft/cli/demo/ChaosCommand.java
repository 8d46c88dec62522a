package dev.reft.cli.demo;

import dev.reft.kafka.local.ServiceProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code reft chaos}: {@code reft demo}'s pipeline (quick preset unless told otherwise) under failure. During the ReFT
 * phase, on a schedule drawn from {@code --seed}, it publishes poison records on every input topic
 * ({@link ChaosPoison}), kills sampler, reward service and learner with SIGKILL {@code --kills} times each (the
 * supervisor restarts them; its restart budget is raised to allow it) and restarts the broker on the same log
 * directory and ports. After the run it audits the topics and the learner's final checkpoint ({@link ChaosAudit}) and
 * prints a summary; the exit status is 0 only when the audit is clean.
 *
 * <p>Events are triggered by the run's progress (policy versions), not by the clock, so the schedule does not depend
 * on the machine's speed: the poison early (so that later restarts read it again), kills and broker restarts at
 * versions drawn uniformly, each a few seconds (drawn too) after its version appears, and each only once the
 * service killed before is back.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = {"Run the pipeline (quick preset) while killing sampler, reward and learner with kill -9, restarting",
        "the broker and publishing poison records on every input topic; then audit that no sample was lost or",
        "duplicated, none trained twice, and every poison record was dead-lettered or ignored as designed.",
        "Exit status 0 only when the audit is clean."})
public final class ChaosCommand implements Callable<Integer> {

  @Mixin
  RunOptions run;

  @Spec
  CommandSpec spec;

  @Option(names = "--kills", defaultValue = "3", description = "kill -9s of each of sampler, reward and learner (default: ${DEFAULT-VALUE}).")
  int kills;

  @Option(names = "--broker-restarts", defaultValue = "1", description = "Broker restarts (default: ${DEFAULT-VALUE}).")
  int brokerRestarts;

  @Option(names = "--poison", defaultValue = "1", description = "Poison records of each kind on each input topic (default: ${DEFAULT-VALUE}).")
  int poisonPerKind;

  @Option(names = "--train-size", description = "Synthetic training problems instead of the preset's.")
  Integer trainSize;

  @Option(names = "--test-size", description = "Held-out problems instead of the preset's (the hard split is as large, at most).")
  Integer testSize;

  @Option(names = "--timeout", defaultValue = "90", description = "Give up (exit 1) when the run has not completed after this many minutes (default: ${DEFAULT-VALUE}).")
  int timeoutMinutes;

  @Option(names = "--dir", defaultValue = "var/chaos", description = "Where runs keep logs and checkpoints (default: ${DEFAULT-VALUE}).")
  Path dir;

  /** One scheduled event. */
  record Event(String what, long atVersion, long delayMillis) {}

  /** The services {@code --kills} applies to, by the name their supervisor knows them by. */
  static final List<String> VICTIMS = List.of("sampler", "reward", "learner");

  @Override
  public Integer call() throws Exception {
    validate();
    if (!spec.commandLine().getParseResult().hasMatchedOption("--preset")) {
      run.preset = "quick";
    }
    Preset p = shrink(run.resolve());
    String runId = run.newId("chaos");
    Path home = dir.toAbsolutePath().resolve(runId);
    Path checkpoints = home.resolve("checkpoints");
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    Random random = new Random(run.seed * 1_000_003L + 12_345L);
    List<Event> schedule = schedule(random, p.reftUpdates(), kills, run.bootstrap == null ? brokerRestarts : 0);
    // Each kill is one restart; the broker restart can make a service exit too (it fails fast, and is restarted).
    int budget = kills + 3;
    try (LocalPipeline pipeline = new LocalPipeline(home, run.bootstrap, run.kafka, false, budget)) {
      System.out.printf("reft chaos, preset %s (%d training problems, %d updates), style %s, %s: run %s on %s%n", p.name(),
          p.trainSize(), p.reftUpdates(), run.style, run.seeds(), runId, pipeline.servers());
      System.out.println("schedule: " + describe(schedule) + (run.bootstrap != null && brokerRestarts > 0
          ? " (no broker restart: --bootstrap names a cluster this command did not start)" : ""));
      RunMonitor monitor = RunMonitor.start(pipeline.client(), runId, System.out);
      pipeline.manage(monitor);
      pipeline.startReward("reft-reward-" + runId);
      Map<String, String> learner = DemoCommand.learnerSettings(p, run, runId, checkpoints);
      Map<String, String> warmup = new HashMap<>(learner);
      warmup.putAll(Map.of("reft.learner.mode", "sft", "reft.learner.sft.epochs", Integer.toString(p.warmupEpochs()),
          "reft.learner.sft.schedule-epochs", Integer.toString(p.scheduleEpochs())));
      System.out.println("1/3 warm-up SFT: " + p.warmupEpochs() + " epochs (no chaos yet)");
      pipeline.runLearner("learner-sft", warmup, monitor);

      System.out.println("2/3 ReFT: " + p.reftUpdates() + " PPO updates under chaos");
      var sampler = pipeline.startSampler(runId, true, run.samplerParallelism());
      Map<String, String> reft = new HashMap<>(learner);
      reft.putAll(Map.of("reft.learner.mode", "reft", "reft.learner.reft.total-updates", Integer.toString(p.reftUpdates()),
          "reft.learner.reft.eval-every", "0"));
      monitor.expectUpdates(p.reftUpdates());
      AtomicReference<Throwable> learnerFailure = new AtomicReference<>();
      Thread learnerThread = new Thread(() -> {
        try {
          pipeline.runLearner("learner-reft", reft, monitor);
        } catch (Throwable e) {
          learnerFailure.set(e);
        }
      }, "chaos-learner");
      learnerThread.setDaemon(true);
      learnerThread.start();
      long deadline = System.nanoTime() + Duration.ofMinutes(timeoutMinutes).toNanos();

      Map<String, String> names = Map.of("sampler", "sampler-" + runId, "reward", "reward-service", "learner", "learner-reft");
      Map<String, Integer> done = new LinkedHashMap<>();
      VICTIMS.forEach(v -> done.put(v, 0));
      List<ChaosPoison.Published> poison = List.of();
      List<Double> brokerDowntimes = new ArrayList<>();
      List<String> missed = new ArrayList<>();
      for (Event e : schedule) {
        while (learnerThread.isAlive() && monitor.version(runId) < e.atVersion() && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        if (!learnerThread.isAlive() || System.nanoTime() >= deadline) {
          missed.add(e.what() + "@v" + e.atVersion());
          continue;
        }
        Thread.sleep(e.delayMillis());
        long version = monitor.version(runId);
        switch (e.what()) {
          case "poison" -> {
            String v0 = checkpoints.resolve(runId).resolve("v000000").toUri().toString();
            poison = new ChaosPoison(pipeline.client(), runId, random, v0).publish(poisonPerKind);
            System.out.printf(Locale.ROOT, "chaos: published %d poison records on 4 topics at version %d%n", poison.size(),
                version);
          }
          case "broker" -> {
            System.out.printf(Locale.ROOT, "chaos: restarting the broker at version %d%n", version);
            double down = pipeline.restartBroker();
            brokerDowntimes.add(down);
            System.out.printf(Locale.ROOT, "chaos: the broker is back after %.1f s%n", down);
          }
          default -> {
            if (kill(pipeline, names.get(e.what()), version, deadline, learnerThread::isAlive)) {
              done.merge(e.what(), 1, Integer::sum);
            } else {
              missed.add(e.what() + "@v" + e.atVersion());
            }
          }
        }
      }
      while (learnerThread.isAlive() && System.nanoTime() < deadline) {
        learnerThread.join(1000);
      }
      List<String> problems = new ArrayList<>();
      boolean completed = !learnerThread.isAlive() && learnerFailure.get() == null;
      if (learnerThread.isAlive()) {
        problems.add("the run did not complete within " + timeoutMinutes + " minutes");
      } else if (learnerFailure.get() != null) {
        problems.add("the run failed: " + learnerFailure.get().getMessage());
      }
      if (!missed.isEmpty()) {
        problems.add("scheduled events that did not happen (the run ended first): " + missed);
      }
      System.out.println();
      System.out.println("3/3 audit: waiting until every request of the run is sampled and graded, then reading the topics");
      Path finalCheckpoint = checkpoints.resolve(runId).resolve(String.format(Locale.ROOT, "v%06d", p.reftUpdates()));
      ChaosAudit audit = new ChaosAudit(pipeline.client(), runId, poison, started)
          .read(completed ? Duration.ofMinutes(4) : Duration.ZERO);
      Map<String, List<Integer>> restarts = pipeline.supervisor().restarts();
      pipeline.stop(sampler);
      String table = "";
      if (completed) {
        monitor.awaitCaughtUp(Duration.ofMinutes(2));
        table = new ResultTable(p.votingK())
            .row("warm-up SFT (ReFT start)", runId, "sft")
            .row("ReFT under chaos", runId, "reft")
            .text(monitor.evaluations());
        System.out.println();
        System.out.print(table);
        if (monitor.evaluations().stream().noneMatch(ev -> runId.equals(ev.getRunId()) && "reft".equals(ev.getMode()))) {
          problems.add("the table has no evaluation of the ReFT policy");
        }
      }
      ChaosAudit.Result r = audit.audit(completed ? finalCheckpoint : null, p.reftUpdates());
      problems.addAll(r.problems());
      double minutes = (System.nanoTime() - t0) / 6e10;
      System.out.println();
      System.out.print(summary(r, done, restarts, names, brokerDowntimes, poison.size(), minutes, problems));
      System.out.printf("logs: %s%n", pipeline.logs());
      return problems.isEmpty() ? 0 : 1;
    } catch (IllegalStateException e) {
      run.command.commandLine().getErr().println("reft chaos: " + e.getMessage());
      run.command.commandLine().getErr().flush();
      return 1;
    }
  }

  /** Kills a supervised service with SIGKILL and waits until its supervisor has a new process of it running. */
  private static boolean kill(LocalPipeline pipeline, String name, long version, long deadline,
      java.util.function.BooleanSupplier runActive) throws InterruptedException {
    Supervisor s = pipeline.supervisor();
    Optional<ServiceProcess> victim = s.current(name).filter(sp -> sp.process().isAlive());
    while (victim.isEmpty() && System.nanoTime() < deadline && runActive.getAsBoolean()) {
      Thread.sleep(500);
      victim = s.current(name).filter(sp -> sp.process().isAlive());
    }
    if (victim.isEmpty()) {
      return false;
    }
    ServiceProcess v = victim.get();
    System.out.printf(Locale.ROOT, "chaos: kill -9 %s (pid %d) at version %d%n", name, v.process().pid(), version);
    v.kill();
    while (System.nanoTime() < deadline && runActive.getAsBoolean()) {
      Optional<ServiceProcess> now = s.current(name);
      if (now.isPresent() && now.get() != v && now.get().process().isAlive()) {
        return true;
      }
      if (name.startsWith("learner") && s.failure() != null) {
        return true;
      }
      Thread.sleep(500);
    }
    return true;
  }

  /**
   * The events of a run of {@code updates} versions: the poison at a version in the first fifth (at least 1: the run
   * has requests to answer), then {@code kills} kills of each service and the broker restarts, shuffled, at versions
   * drawn uniformly after the poison and before the last update; each 0–8 s after its version appears.
   */
  static List<Event> schedule(Random random, int updates, int kills, int brokerRestarts) {
    List<String> what = new ArrayList<>();
    for (int k = 0; k < kills; k++) {
      what.addAll(VICTIMS);
    }
    for (int b = 0; b < brokerRestarts; b++) {
      what.add("broker");
    }
    Collections.shuffle(what, random);
    long poisonAt = 1 + random.nextInt(Math.max(1, updates / 5));
    List<Long> versions = new ArrayList<>();
    for (int i = 0; i < what.size(); i++) {
      long lo = Math.min(poisonAt + 1, updates - 1);
      versions.add(lo + (long) random.nextInt((int) Math.max(1, updates - 1 - lo)));
    }
    Collections.sort(versions);
    List<Event> events = new ArrayList<>();
    events.add(new Event("poison", poisonAt, random.nextInt(3000)));
    for (int i = 0; i < what.size(); i++) {
      events.add(new Event(what.get(i), versions.get(i), random.nextInt(8000)));
    }
    return events;
  }

  private static String describe(List<Event> schedule) {
    List<String> parts = new ArrayList<>();
    for (Event e : schedule) {
      parts.add(String.format(Locale.ROOT, "%s@v%d+%.1fs", e.what(), e.atVersion(), e.delayMillis() / 1000.0));
    }
    return String.join(", ", parts);
  }

  private String summary(ChaosAudit.Result r, Map<String, Integer> killed, Map<String, List<Integer>> restarts,
      Map<String, String> names, List<Double> brokerDowntimes, int poisonCount, double minutes, List<String> problems) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "chaos summary (seed %d):%n", run.seed));
    List<String> k = new ArrayList<>();
    List<String> unplanned = new ArrayList<>();
    for (String v : VICTIMS) {
      k.add(v + " " + killed.get(v));
      int n = restarts.getOrDefault(names.get(v), List.of()).size();
      if (n > killed.get(v)) {
        unplanned.add(v + " " + (n - killed.get(v)));
      }
    }
    restarts.forEach((name, exits) -> {
      if (!names.containsValue(name)) {
        unplanned.add(name + " " + exits.size());
      }
    });
    b.append(String.format(Locale.ROOT, "  kills (kill -9)     %s; broker restarts %d%s%n", String.join(", ", k),
        brokerDowntimes.size(), brokerDowntimes.isEmpty() ? ""
            : String.format(Locale.ROOT, " (unavailable %.1f s)", brokerDowntimes.stream().mapToDouble(Double::doubleValue).sum())));
    b.append(String.format(Locale.ROOT, "  other restarts      %s%n", unplanned.isEmpty() ? "none"
        : String.join(", ", unplanned) + " (a service exits when it cannot reach the broker, and is restarted)"));
    b.append(String.format(Locale.ROOT, "  records             %,d requests -> %,d samples requested -> %,d sampled -> %,d graded "
        + "-> %,d trained%n", r.requests(), r.samplesRequested(), r.sampled(), r.graded(), r.trained()));
    b.append(String.format(Locale.ROOT, "  lost %d, duplicated %d%s%n", r.lost(), r.duplicated(),
        r.unrequested() > 0 ? ", unrequested " + r.unrequested() : "")
        + "  (every requested (request id, sample index) sampled exactly once and graded exactly once"
        + (r.lost() + r.duplicated() == 0 ? ")" : ": NO)") + "\n");
    b.append("  training            ").append(r.trainingDetail()).append('\n');
    b.append(String.format(Locale.ROOT, "  poison              %d records on 4 topics, %d as expected:%n", poisonCount, r.poisonOk()));
    r.poisonLines().forEach(l -> b.append(l).append('\n'));
    b.append("  dead letters by reason:\n");
    r.deadLettersByReason().forEach((reason, n) -> b.append(String.format(Locale.ROOT, "    %4d  %s%n", n, reason)));
    b.append(String.format(Locale.ROOT, "  genuine records dead-lettered: %d%n", r.genuineDeadLetters()));
    b.append(String.format(Locale.ROOT, "  wall time           %.1f min%n", minutes));
    if (problems.isEmpty()) {
      b.append("audit: CLEAN\n");
    } else {
      b.append("audit: FAILED\n");
      problems.forEach(pr -> b.append("  - ").append(pr).append('\n'));
    }
    return b.toString();
  }

  private void validate() {
    if (kills < 0) {
      throw new ParameterException(spec.commandLine(), "--kills must be 0 or more, not " + kills);
    }
    if (brokerRestarts < 0) {
      throw new ParameterException(spec.commandLine(), "--broker-restarts must be 0 or more, not " + brokerRestarts);
    }
    if (poisonPerKind < 1) {
      throw new ParameterException(spec.commandLine(), "--poison must be at least 1, not " + poisonPerKind);
    }
    if (trainSize != null && trainSize < 64) {
      throw new ParameterException(spec.commandLine(), "--train-size must be at least 64, not " + trainSize);
    }
    if (testSize != null && testSize < 1) {
      throw new ParameterException(spec.commandLine(), "--test-size must be at least 1, not " + testSize);
    }
    if (timeoutMinutes < 1) {
      throw new ParameterException(spec.commandLine(), "--timeout must be at least 1 minute, not " + timeoutMinutes);
    }
  }

  private Preset shrink(Preset p) {
    int train = trainSize != null ? trainSize : p.trainSize();
    int test = testSize != null ? testSize : p.testSize();
    if (p.reftUpdates() < 4) {
      throw new ParameterException(spec.commandLine(), "chaos needs at least 4 updates to schedule its events in, not "
          + p.reftUpdates());
    }
    return new Preset(p.name(), train, test, Math.min(p.hardSize(), test), p.warmupEpochs(), p.scheduleEpochs(),
        p.reftUpdates(), 0, p.votingK(), p.evalEvery());
  }
}
