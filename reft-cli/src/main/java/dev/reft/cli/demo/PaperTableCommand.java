package dev.reft.cli.demo;

import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.synthetic.SyntheticConfig;
import dev.reft.tasks.synthetic.SyntheticData;
import dev.reft.tasks.synthetic.SyntheticTask;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code reft paper-table}: the shape of the paper's Table 2 on the synthetic task, for one or several seeds. Per
 * seed, one warm-up SFT, then from that same version 0 and with the same sampling budget: SFT trained on to its
 * best epoch, SFT on every valid path (the control: the same SFT budget, all the paths instead of one),
 * Offline-ST, Online-ST, ReFT, ReFT with β = 0, and the critic-free leave-one-out variant — each a learner run of
 * its own over the three services. Prints and writes as markdown, per method, greedy top-1, voting@K, the share
 * of greedy chains that took a cheapest path and the hard slice; with several seeds, the mean and standard error.
 */
@Command(name = "paper-table", mixinStandardHelpOptions = true,
    description = {"Run warm-up SFT, then SFT, SFT on all paths, Offline-ST, Online-ST, ReFT, ReFT with beta = 0 and the",
        "critic-free RLOO variant from it on the synthetic task with the same budget, for one or more seeds, and print",
        "the paper's Table 2 shape (greedy top-1, voting@K, cheapest-path share; mean and standard error over seeds)."})
public final class PaperTableCommand implements Callable<Integer> {

  /** The methods, in table order. */
  enum Method {
    WARMUP("warm-up SFT (start of all)", "sft"),
    SFT("SFT (best epoch)", "sft"),
    SFT_ALL_PATHS("SFT on all paths (best epoch)", "sft"),
    OFFLINE_ST("Offline-ST", "offline-st"),
    ONLINE_ST("Online-ST", "online-st"),
    REFT("ReFT", "reft"),
    REFT_BETA0("ReFT, beta = 0", "reft"),
    RLOO("critic-free RLOO (variant)", "reft");

    final String label;
    final String mode;

    Method(String label, String mode) {
      this.label = label;
      this.mode = mode;
    }

    String key() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** The RLOO variant's samples per question and questions per update (ReFT's defaults are 1 × 128). */
  static final int RLOO_SAMPLES = 4;
  static final int RLOO_QUESTIONS = 32;

  @Mixin
  RunOptions run;

  @Option(names = "--seeds", defaultValue = "1",
      description = "Seeds to run: --seed, --seed + 1, ... (default: ${DEFAULT-VALUE}); the table shows mean ± standard error.")
  int seeds;

  @Option(names = "--methods", split = ",",
      description = "Only these methods (warmup always runs): sft, sft-all-paths, offline-st, online-st, reft, reft-beta0, rloo.")
  List<String> methods;

  @Option(names = "--dir", defaultValue = "var/paper-table", description = "Where runs keep logs and checkpoints (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--out", description = "Markdown file to write (default: <dir>/<table id>/paper-table.md).")
  Path out;

  @Override
  public Integer call() throws Exception {
    Preset p = run.resolve();
    List<Method> chosen = chosenMethods();
    if (seeds < 1) {
      throw new ParameterException(run.command.commandLine(), "--seeds must be at least 1, not " + seeds);
    }
    String id = run.newId("pt");
    Path home = dir.toAbsolutePath().resolve(id);
    Path checkpoints = home.resolve("checkpoints");
    Path markdown = out != null ? out.toAbsolutePath() : home.resolve("paper-table.md");
    int sftEpochs = p.bestSftEpochs() > 0 ? p.bestSftEpochs() : p.scheduleEpochs();
    int allPathsEpochs = allPathsEpochs(p, sftEpochs);
    ReftHyperparameters hp = run.ppo(); // the sampling budget of the runs, with the --set overrides
    int questionsPerBatch = hp.questionsPerBatch();
    int parallelism = run.samplerParallelism(hp.maxPolicyLag());
    Map<String, Double> minutes = new LinkedHashMap<>();
    Map<Method, List<String>> runs = new LinkedHashMap<>();
    chosen.forEach(m -> runs.put(m, new ArrayList<>()));
    long t0 = System.nanoTime();
    try (LocalPipeline pipeline = new LocalPipeline(home, run.bootstrap, run.kafka, false)) {
      System.out.printf("reft paper-table, preset %s, style %s, %s, %d seed(s): runs %s-* on %s%n", p.name(), run.style,
          run.seeds(), seeds, id, pipeline.servers());
      RunMonitor monitor = RunMonitor.start(pipeline.client(), id, System.out);
      pipeline.manage(monitor);
      pipeline.startReward("reft-reward-" + id);
      for (int s = 0; s < seeds; s++) {
        long seed = run.seed + s;
        String prefix = id + "-s" + seed;
        Map<String, String> common = DemoCommand.learnerSettings(p, run, prefix, checkpoints);
        common.put("reft.learner.seed", Long.toString(seed));
        common.put("reft.learner.model.seed", Long.toString(seed));
        String init = checkpoints.resolve(prefix + "-warmup").resolve("v000000").toString();
        for (Method m : chosen) {
          String runId = prefix + "-" + m.key();
          runs.get(m).add(runId);
          System.out.printf("seed %d, %s%n", seed, describe(m, p, sftEpochs, allPathsEpochs, questionsPerBatch));
          Map<String, String> props = settings(m, common, runId, init, p, sftEpochs, allPathsEpochs, questionsPerBatch);
          boolean samples = m == Method.OFFLINE_ST || m.mode.equals("reft") || m == Method.ONLINE_ST;
          if (!m.mode.equals("sft") || m == Method.OFFLINE_ST) {
            monitor.expectUpdates(p.reftUpdates());
          }
          timed(minutes, m.key(), () -> {
            if (samples) {
              withSampler(pipeline, runId, parallelism, () -> pipeline.runLearner("learner-" + m.key(), props, monitor));
            } else {
              pipeline.runLearner("learner-" + m.key(), props, monitor);
            }
          });
        }
        monitor.awaitCaughtUp(Duration.ofMinutes(2)); // every evaluation the learners wrote is in the tables
        if (seeds > 1) {
          System.out.printf("%nseed %d:%n%s%n", seed, table(p, runs, s).text(monitor.evaluations()));
        }
      }
      ResultTable table = table(p, runs, -1);
      double wall = (System.nanoTime() - t0) / 6e10;
      System.out.println();
      System.out.print(table.text(monitor.evaluations()));
      Files.createDirectories(markdown.getParent());
      Files.writeString(markdown, String.format(Locale.ROOT, """
          # Paper table (synthetic task `%s`, %s)

          Preset `%s`, %s, %d seed(s) from %d, %d training problems, %d held-out and %d harder problems, warm-up %d
          of %d epochs; %d updates × %d questions × %d sample(s) for Online-ST, ReFT and ReFT with β = 0 (%d × %d for
          the RLOO variant), the same number of samples for Offline-ST; SFT trains up to %d epochs and keeps its best, SFT on all paths takes the same
          number of steps on every valid path of every problem (%d epochs). With several seeds: mean ± standard
          error over the seeds (the count in parentheses when a seed is missing). "cheapest path": the share of greedy
          chains, on problems with a choice of paths of different cost, that took a cheapest one.
          Produced by `./reft paper-table --task %s --preset %s --style %s --seed %d --seeds %d --synthetic-seed %d%s`
          in %.1f min.

          %s
          Minutes per method (mean over seeds): %s.
          """, run.task, run.style, p.name(), run.seeds(), seeds, run.seed, p.trainSize(), p.testSize(), p.hardSize(),
          p.warmupEpochs(), p.scheduleEpochs(), p.reftUpdates(), questionsPerBatch, hp.samplesPerQuestion(),
          RLOO_QUESTIONS, RLOO_SAMPLES, sftEpochs, allPathsEpochs,
          run.task, p.name(), run.style, run.seed, seeds, run.syntheticSeed,
          methods == null ? "" : " --methods " + String.join(",", methods), wall, table.markdown(monitor.evaluations()),
          minutesLine(minutes, seeds)));
      System.out.printf(Locale.ROOT, "%nwall time %.1f min; markdown: %s; checkpoints: %s; logs: %s%n", wall, markdown,
          checkpoints, pipeline.logs());
      return 0;
    } catch (IllegalStateException e) {
      run.command.commandLine().getErr().println("reft paper-table: " + e.getMessage());
      run.command.commandLine().getErr().flush();
      return 1;
    }
  }

  private List<Method> chosenMethods() {
    List<Method> chosen = new ArrayList<>(List.of(Method.WARMUP));
    if (methods == null) {
      chosen.addAll(List.of(Method.values()).subList(1, Method.values().length));
      return chosen;
    }
    for (Method m : Method.values()) {
      if (m != Method.WARMUP && methods.contains(m.key())) {
        chosen.add(m);
      }
    }
    List<String> known = chosen.stream().map(Method::key).toList();
    for (String name : methods) {
      if (!known.contains(name) && !name.equals("warmup")) {
        throw new ParameterException(run.command.commandLine(), "--methods: unknown method '" + name
            + "' (choose from sft, sft-all-paths, offline-st, online-st, reft, reft-beta0, rloo)");
      }
    }
    return chosen;
  }

  /**
   * Epochs of SFT on all paths with the same number of optimizer steps as {@code sftEpochs} on the annotated set:
   * the two controls differ in what they see, not in how long they train.
   */
  private int allPathsEpochs(Preset p, int sftEpochs) {
    SyntheticData data = SyntheticTask.generate(SyntheticConfig.defaults(SyntheticConfig.Task.parse(run.task),
        run.syntheticSeed).withSizes(p.trainSize(), 1, 0));
    CotStyle style = CotStyle.valueOf(run.style.toUpperCase(Locale.ROOT));
    double ratio = data.train(style).size() / (double) data.trainAllPaths(style).size();
    return Math.max(1, (int) Math.round(sftEpochs * ratio));
  }

  private static String describe(Method m, Preset p, int sftEpochs, int allPathsEpochs, int questions) {
    return switch (m) {
      case WARMUP -> "warm-up SFT: " + p.warmupEpochs() + " epochs of a " + p.scheduleEpochs() + "-epoch schedule";
      case SFT -> "SFT: " + sftEpochs + " epochs, keeping the epoch with the best held-out accuracy";
      case SFT_ALL_PATHS -> "SFT on all paths: " + allPathsEpochs + " epochs (the same steps), keeping the best";
      case OFFLINE_ST -> "Offline-ST: " + p.reftUpdates() * questions + " questions sampled from the warm-up, then SFT "
          + "on the correct ones";
      case RLOO -> m.label + ": " + p.reftUpdates() + " updates of " + RLOO_QUESTIONS + " questions × " + RLOO_SAMPLES
          + " samples from the warm-up policy";
      default -> m.label + ": " + p.reftUpdates() + " updates of " + questions + " questions from the warm-up policy";
    };
  }

  private static Map<String, String> settings(Method m, Map<String, String> common, String runId, String init,
      Preset p, int sftEpochs, int allPathsEpochs, int questionsPerBatch) {
    Map<String, String> props = new HashMap<>(common);
    props.put("reft.learner.run-id", runId);
    props.put("reft.learner.mode", m.mode);
    switch (m) {
      case WARMUP -> props.putAll(Map.of("reft.learner.sft.epochs", Integer.toString(p.warmupEpochs()),
          "reft.learner.sft.schedule-epochs", Integer.toString(p.scheduleEpochs())));
      case SFT -> props.putAll(DemoCommand.bestSft(common, runId, sftEpochs, p));
      case SFT_ALL_PATHS -> {
        props.putAll(DemoCommand.bestSft(common, runId, allPathsEpochs, p));
        props.put("reft.learner.synthetic.all-paths", "true");
      }
      case OFFLINE_ST -> props.putAll(Map.of("reft.learner.init-checkpoint", init,
          "reft.learner.offline-st.sample-questions", Integer.toString(p.reftUpdates() * questionsPerBatch)));
      default -> {
        props.putAll(Map.of("reft.learner.init-checkpoint", init,
            "reft.learner.reft.total-updates", Integer.toString(p.reftUpdates()),
            "reft.learner.reft.eval-every", Integer.toString(p.evalEvery())));
        if (m == Method.REFT_BETA0) {
          props.put("reft.ppo.kl-coef", "0");
        } else if (m == Method.RLOO) {
          props.put("reft.ppo.advantages", "rloo");
          // The group baseline needs several samples per question: 32 questions × 4, the same 128 trajectories per
          // update as ReFT's 128 × 1 (unless --set chose others).
          props.putIfAbsent("reft.ppo.samples-per-question", Integer.toString(RLOO_SAMPLES));
          props.putIfAbsent("reft.ppo.questions-per-batch", Integer.toString(RLOO_QUESTIONS));
        }
      }
    }
    return props;
  }

  /** The table of one seed ({@code seed} ≥ 0, its index) or of all. */
  private ResultTable table(Preset p, Map<Method, List<String>> runs, int seed) {
    ResultTable table = new ResultTable(p.votingK());
    runs.forEach((m, ids) -> {
      if (seed < 0) {
        table.row(m.label, m.mode, ids);
      } else if (seed < ids.size()) {
        table.row(m.label, ids.get(seed), m.mode);
      }
    });
    return table;
  }

  private interface Step {
    void run() throws Exception;
  }

  /** Runs a learner run with a sampler serving it, stopped afterwards. */
  private static void withSampler(LocalPipeline pipeline, String runId, int parallelism, Step step) throws Exception {
    Supervisor.Kept sampler = pipeline.startSampler(runId, false, parallelism); // loads the version 0 the learner publishes
    try {
      step.run();
    } finally {
      pipeline.stop(sampler);
    }
  }

  private static void timed(Map<String, Double> minutes, String name, Step step) throws Exception {
    long t = System.nanoTime();
    step.run();
    minutes.merge(name, (System.nanoTime() - t) / 6e10, Double::sum);
  }

  private static String minutesLine(Map<String, Double> minutes, int seeds) {
    StringBuilder sb = new StringBuilder();
    minutes.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ")
        .append(String.format(Locale.ROOT, "%s %.1f", k, v / seeds)));
    return sb.toString();
  }
}
