package dev.reft.cli.demo;

import dev.reft.tasks.synthetic.SyntheticConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

  @Mixin
  RunOptions run;

  @Option(names = "--dir", defaultValue = "var/demo", description = "Where runs keep logs and checkpoints (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--keep-broker", description = "Leave the demo's local broker (and its data) running after the demo.")
  boolean keepBroker;

  @Override
  public Integer call() throws Exception {
    Preset p = run.resolve();
    String runId = run.newId("demo");
    Path home = dir.toAbsolutePath().resolve(runId);
    Path checkpoints = home.resolve("checkpoints");
    long t0 = System.nanoTime();
    try (LocalPipeline pipeline = new LocalPipeline(home, run.bootstrap, run.kafka, keepBroker)) {
      System.out.printf("reft demo, preset %s, style %s, %s: run %s on %s%n", p.name(), run.style, run.seeds(), runId,
          pipeline.servers());
      RunMonitor monitor = RunMonitor.start(pipeline.client(), runId, System.out);
      pipeline.manage(monitor);
      pipeline.startReward("reft-reward-" + runId);

      Map<String, String> learner = learnerSettings(p, run, runId, checkpoints);
      Map<String, String> warmup = new HashMap<>(learner);
      warmup.putAll(Map.of("reft.learner.mode", "sft", "reft.learner.sft.epochs", Integer.toString(p.warmupEpochs()),
          "reft.learner.sft.schedule-epochs", Integer.toString(p.scheduleEpochs())));
      System.out.println("1/3 warm-up SFT: " + p.warmupEpochs() + " epochs of a " + p.scheduleEpochs() + "-epoch schedule");
      pipeline.runLearner("learner-sft", warmup, monitor);

      System.out.println("2/3 ReFT: " + p.reftUpdates() + " PPO updates from the warm-up policy (version 0)");
      var sampler = pipeline.startSampler(runId, true, run.samplerParallelism());
      Map<String, String> reft = new HashMap<>(learner);
      reft.putAll(Map.of("reft.learner.mode", "reft", "reft.learner.reft.total-updates", Integer.toString(p.reftUpdates()),
          "reft.learner.reft.eval-every", Integer.toString(p.evalEvery())));
      monitor.expectUpdates(p.reftUpdates());
      pipeline.runLearner("learner-reft", reft, monitor);
      pipeline.stop(sampler);

      if (p.bestSftEpochs() > 0) {
        System.out.println("3/3 best-SFT baseline: " + p.bestSftEpochs() + " epochs, keeping the epoch with the best held-out accuracy");
        pipeline.runLearner("learner-best-sft", bestSft(learner, runId + "-best-sft", p.bestSftEpochs(), p), monitor);
      }
      monitor.awaitCaughtUp(Duration.ofMinutes(2)); // every evaluation the learners wrote is in the table
      System.out.println();
      ResultTable table = new ResultTable(p.votingK())
          .row("warm-up SFT (ReFT start)", runId, "sft")
          .row("ReFT", runId, "reft")
          .row("best SFT", runId + "-best-sft", "sft");
      System.out.print(table.text(monitor.evaluations()));
      System.out.printf(Locale.ROOT, "%nwall time %.1f min; checkpoints: %s; logs: %s%n", (System.nanoTime() - t0) / 6e10,
          checkpoints, pipeline.logs());
      return 0;
    } catch (IllegalStateException e) {
      run.command.commandLine().getErr().println("reft demo: " + e.getMessage());
      run.command.commandLine().getErr().flush();
      return 1;
    }
  }

  /** The best-SFT baseline: SFT for {@code epochs}, keeping the epoch with the best held-out accuracy. */
  static Map<String, String> bestSft(Map<String, String> learner, String runId, int epochs, Preset p) {
    Map<String, String> best = new HashMap<>(learner);
    best.putAll(Map.of("reft.learner.mode", "sft", "reft.learner.run-id", runId,
        "reft.learner.sft.epochs", Integer.toString(epochs), "reft.learner.sft.keep-best", "true",
        "reft.learner.sft.eval-problems", Integer.toString(Math.min(300, p.testSize()))));
    return best;
  }

  /** Learner settings shared by every run of a preset. */
  static Map<String, String> learnerSettings(Preset p, RunOptions run, String runId, Path checkpoints) {
    Map<String, String> m = new HashMap<>();
    m.put("reft.learner.run-id", runId);
    m.put("reft.learner.style", run.style);
    m.put("reft.learner.seed", Long.toString(run.seed));
    m.put("reft.learner.model.seed", Long.toString(run.seed));
    m.put("reft.learner.synthetic.seed", Long.toString(run.syntheticSeed));
    m.put("reft.learner.synthetic.task", SyntheticConfig.Task.parse(run.task).id());
    m.put("reft.learner.checkpoint-dir", checkpoints.toString());
    m.put("reft.learner.synthetic.train-size", Integer.toString(p.trainSize()));
    m.put("reft.learner.synthetic.test-size", Integer.toString(p.testSize()));
    m.put("reft.learner.synthetic.hard-size", Integer.toString(p.hardSize()));
    m.put("reft.learner.sft.eval-problems", "0");
    m.put("reft.learner.eval.voting-k", Integer.toString(p.votingK()));
    m.put("reft.learner.threads", "2");
    m.putAll(run.settings);
    return m;
  }
}
