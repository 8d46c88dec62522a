package dev.reft.cli.demo;

import dev.reft.kafka.local.ServiceProcess;
import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code reft paper-table}: the shape of the paper's Table 2 on the synthetic task. One warm-up SFT, then
 * from that same version 0 and with the same sampling budget: SFT trained on (its best epoch), Offline-ST,
 * Online-ST, ReFT, and ReFT with β = 0 — each a learner run of its own over the three services — and the
 * held-out greedy top-1 and voting@K accuracy of each, printed and written as markdown.
 */
@Command(name = "paper-table", mixinStandardHelpOptions = true,
    description = {"Run SFT, Offline-ST, Online-ST, ReFT and ReFT with beta = 0 from one warm-up on the synthetic task",
        "with the same budget, and print the paper's Table 2 shape (greedy top-1 and voting@K); also as markdown."})
public final class PaperTableCommand implements Callable<Integer> {

  @Mixin
  RunOptions run;

  @Option(names = "--dir", defaultValue = "var/paper-table", description = "Where runs keep logs and checkpoints (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--out", description = "Markdown file to write (default: <dir>/<table id>/paper-table.md).")
  Path out;

  @Override
  public Integer call() throws Exception {
    Preset p = run.resolve();
    String id = run.newId("pt");
    Path home = dir.toAbsolutePath().resolve(id);
    Path checkpoints = home.resolve("checkpoints");
    Path markdown = out != null ? out.toAbsolutePath() : home.resolve("paper-table.md");
    int sftEpochs = p.bestSftEpochs() > 0 ? p.bestSftEpochs() : p.scheduleEpochs();
    // The sampling budget of one update: reft.ppo.questions-per-batch's default.
    int questionsPerBatch = dev.reft.learner.rl.ReftHyperparameters.defaults(
        dev.reft.schemas.CotStyle.valueOf(run.style.toUpperCase(Locale.ROOT))).questionsPerBatch();
    int sampleQuestions = p.reftUpdates() * questionsPerBatch;
    Map<String, Double> minutes = new LinkedHashMap<>();
    long t0 = System.nanoTime();
    try (LocalPipeline pipeline = new LocalPipeline(home, run.bootstrap, false)) {
      System.out.printf("reft paper-table, preset %s, style %s, %s: runs %s-* on %s%n", p.name(), run.style, run.seeds(), id,
          pipeline.servers());
      RunMonitor monitor = RunMonitor.start(pipeline.servers(), id, System.out);
      pipeline.manage(monitor);
      pipeline.startReward("reft-reward-" + id);
      Map<String, String> common = DemoCommand.learnerSettings(p, run, id, checkpoints);
      String warmupRun = id + "-warmup";
      String init = checkpoints.resolve(warmupRun).resolve("v000000").toString();

      System.out.println("1/6 warm-up SFT: " + p.warmupEpochs() + " epochs of a " + p.scheduleEpochs() + "-epoch schedule");
      Map<String, String> warmup = with(common, Map.of("reft.learner.run-id", warmupRun, "reft.learner.mode", "sft",
          "reft.learner.sft.epochs", Integer.toString(p.warmupEpochs()),
          "reft.learner.sft.schedule-epochs", Integer.toString(p.scheduleEpochs())));
      timed(minutes, "warm-up", () -> pipeline.runLearner("learner-warmup", warmup, monitor));

      System.out.println("2/6 SFT: " + sftEpochs + " epochs, keeping the epoch with the best held-out accuracy");
      timed(minutes, "SFT", () -> pipeline.runLearner("learner-sft",
          DemoCommand.bestSft(common, id + "-sft", sftEpochs, p), monitor));

      System.out.printf("3/6 Offline-ST: %d questions × 4 samples from the warm-up policy, then SFT on the correct ones%n",
          sampleQuestions);
      timed(minutes, "Offline-ST", () -> withSampler(pipeline, id + "-offline-st", () -> pipeline.runLearner(
          "learner-offline-st", with(common, Map.of("reft.learner.run-id", id + "-offline-st",
              "reft.learner.mode", "offline-st", "reft.learner.init-checkpoint", init,
              "reft.learner.offline-st.sample-questions", Integer.toString(sampleQuestions))), monitor)));

      String[][] rollouts = {
          {"4/6 Online-ST", "online-st", "online-st", null},
          {"5/6 ReFT", "reft", "reft", null},
          {"6/6 ReFT with beta = 0 (no KL penalty)", "reft-b0", "reft", "0"}};
      for (String[] r : rollouts) {
        System.out.printf("%s: %d updates of %d questions × 4 samples from the warm-up policy%n", r[0], p.reftUpdates(),
            questionsPerBatch);
        Map<String, String> props = with(common, Map.of("reft.learner.run-id", id + "-" + r[1],
            "reft.learner.mode", r[2], "reft.learner.init-checkpoint", init,
            "reft.learner.reft.total-updates", Integer.toString(p.reftUpdates()),
            "reft.learner.reft.eval-every", Integer.toString(p.evalEvery())));
        if (r[3] != null) {
          props.put("reft.ppo.kl-coef", r[3]);
        }
        monitor.expectUpdates(p.reftUpdates());
        timed(minutes, r[0].substring(4), () -> withSampler(pipeline, id + "-" + r[1],
            () -> pipeline.runLearner("learner-" + r[1], props, monitor)));
      }
      monitor.awaitCaughtUp(Duration.ofMinutes(2)); // every evaluation the learners wrote is in the table

      ResultTable table = new ResultTable(p.votingK())
          .row("warm-up SFT (start of all)", warmupRun, "sft")
          .row("SFT (best epoch)", id + "-sft", "sft")
          .row("Offline-ST", id + "-offline-st", "offline-st")
          .row("Online-ST", id + "-online-st", "online-st")
          .row("ReFT", id + "-reft", "reft")
          .row("ReFT, beta = 0", id + "-reft-b0", "reft");
      double wall = (System.nanoTime() - t0) / 6e10;
      System.out.println();
      System.out.print(table.text(monitor.evaluations()));
      Files.createDirectories(markdown.getParent());
      Files.writeString(markdown, String.format(Locale.ROOT, """
          # Paper table (synthetic task, %s)

          Preset `%s`, %s, %d training problems, %d held-out (1–3 steps) and %d harder 4-step problems,
          warm-up %d of %d epochs; %d updates × %d questions × 4 samples for Online-ST and ReFT, the same
          number of samples for Offline-ST; the SFT row trains up to %d epochs and keeps its best.
          Produced by `./reft paper-table --preset %s --style %s --seed %d --synthetic-seed %d` in %.1f min.

          %s
          Minutes per method: %s.
          """, run.style, p.name(), run.seeds(), p.trainSize(), p.testSize(), p.hardSize(), p.warmupEpochs(), p.scheduleEpochs(),
          p.reftUpdates(), questionsPerBatch, sftEpochs, p.name(), run.style, run.seed, run.syntheticSeed, wall, table.markdown(monitor.evaluations()),
          minutesLine(minutes)));
      System.out.printf(Locale.ROOT, "%nwall time %.1f min; markdown: %s; checkpoints: %s; logs: %s%n", wall, markdown,
          checkpoints, pipeline.logs());
      return 0;
    } catch (IllegalStateException e) {
      System.err.println("reft paper-table: " + e.getMessage());
      return 1;
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  /** Runs a learner run with a sampler serving it, stopped afterwards. */
  private static void withSampler(LocalPipeline pipeline, String runId, Step step) throws Exception {
    ServiceProcess sampler = pipeline.startSampler(runId, false); // loads the version 0 the learner publishes
    try {
      step.run();
    } finally {
      pipeline.stop(sampler);
    }
  }

  private static void timed(Map<String, Double> minutes, String name, Step step) throws Exception {
    long t = System.nanoTime();
    step.run();
    minutes.put(name, (System.nanoTime() - t) / 6e10);
  }

  private static Map<String, String> with(Map<String, String> base, Map<String, String> more) {
    Map<String, String> m = new HashMap<>(base);
    m.putAll(more);
    return m;
  }

  private static String minutesLine(Map<String, Double> minutes) {
    StringBuilder sb = new StringBuilder();
    minutes.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%s %.1f", k, v)));
    return sb.toString();
  }
}
