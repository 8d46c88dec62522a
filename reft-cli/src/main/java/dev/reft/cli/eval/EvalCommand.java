package dev.reft.cli.eval;

import dev.reft.cli.Settings;
import dev.reft.learner.eval.Evaluator;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.PolicyRuntime;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Datasets;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import dev.reft.tasks.synthetic.SyntheticConfig;
import dev.reft.tasks.synthetic.SyntheticTask;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code reft eval}: greedy top-1 and voting@K accuracy of a checkpoint on a held-out set. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = "Evaluate a checkpoint: greedy top-1 and voting@K accuracy, and the outcome counts.")
public final class EvalCommand implements Callable<Integer> {

  @Option(names = "--checkpoint", required = true, description = "Checkpoint directory (verified before use).")
  Path checkpoint;

  @Option(names = "--data", defaultValue = "synthetic",
      description = "synthetic (the built-in task's test split) or a ReFT JSON / GSM8K JSONL file (default: ${DEFAULT-VALUE}).")
  String data;

  @Option(names = "--style", description = "ncot, pcot or mcq (default: from the file name, ncot for synthetic).")
  String style;

  @Option(names = "--voting", defaultValue = "0", description = "Samples per problem for majority voting; 0 = greedy only (default: ${DEFAULT-VALUE}).")
  int voting;

  @Option(names = "--limit", defaultValue = "0", description = "Evaluate only the first N problems (default: all).")
  int limit;

  @Option(names = "--synthetic-seed", defaultValue = "" + SyntheticConfig.DEFAULT_SEED, description = "Seed of the synthetic task (default: ${DEFAULT-VALUE}).")
  long syntheticSeed;

  @Option(names = "--task", defaultValue = "paths", converter = dev.reft.cli.data.TaskConverter.class,
      description = "Synthetic task: paths or orders (default: ${DEFAULT-VALUE}).")
  SyntheticConfig.Task task;

  @Option(names = "--synthetic-size", defaultValue = "1000", description = "Held-out synthetic problems (default: ${DEFAULT-VALUE}).")
  int syntheticSize;

  @Option(names = "--hard", description = "Evaluate the synthetic task's harder 4-step slice instead.")
  boolean hard;

  @Option(names = "--max-new-tokens", defaultValue = "128", description = "Generation budget per answer (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--batch", defaultValue = "64", description = "Prompts decoded together (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the voting samples (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--threads", defaultValue = "2", description = "PyTorch intra-op threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  /** Refuses impossible options as usage errors (exit 2) before anything is loaded. */
  private void validate() {
    java.util.function.Consumer<String> refuse = m -> {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), m);
    };
    if (voting < 0) {
      refuse.accept("--voting must be 0 or more, not " + voting);
    }
    if (limit < 0) {
      refuse.accept("--limit must be 0 (all) or more, not " + limit);
    }
    if (batch < 1 || maxNewTokens < 1 || threads < 1 || syntheticSize < 1) {
      refuse.accept("--batch, --max-new-tokens, --threads and --synthetic-size must be at least 1");
    }
    if (style != null && !List.of("ncot", "pcot", "mcq").contains(style.toLowerCase(Locale.ROOT))) {
      refuse.accept("--style must be ncot, pcot or mcq, not '" + style + "'");
    }
  }

  @Override
  public Integer call() throws Exception {
    validate();
    PolicyRuntime.configureThreads(threads, 1);
    CotStyle s;
    List<Problem> problems;
    if ("synthetic".equals(data)) {
      s = style == null ? CotStyle.NCOT : CotStyle.valueOf(style.toUpperCase(Locale.ROOT));
      var generated = SyntheticTask.generate(SyntheticConfig.defaults(task, syntheticSeed).withSizes(2000, syntheticSize, 500));
      problems = hard ? generated.hardTest(s) : generated.test(s);
    } else {
      Path file = Path.of(data);
      s = style == null ? Datasets.inferStyle(file) : CotStyle.valueOf(style.toUpperCase(Locale.ROOT));
      problems = Datasets.read(file, s);
    }
    if (limit > 0 && limit < problems.size()) {
      problems = problems.subList(0, limit);
    }
    Checkpoint c = Checkpoint.open(checkpoint);
    int total = problems.size() * (voting > 0 ? 2 : 1);
    try (PolicyTokenizer tokenizer = c.tokenizer(); PolicyModel model = c.loadModel();
        PythonSandbox sandbox = s == CotStyle.PCOT ? PythonSandbox.start(SandboxConfig.from(Settings::lookup)) : null) {
      System.out.printf("evaluating %s (%,d parameters) on %d %s problems (%s)%n", checkpoint, model.parameterCount(),
          problems.size(), data, s);
      Evaluator evaluator = new Evaluator(tokenizer, sandbox == null ? Grader.textOnly() : new Grader(sandbox), batch, maxNewTokens);
      boolean tty = System.console() != null;
      Evaluator.Result r = evaluator.evaluate(model, problems, s, voting, seed, done -> {
        String bar = progress(done, total);
        if (tty) {
          System.out.print("\r" + bar);
          System.out.flush();
        }
      });
      if (tty) {
        System.out.println();
      }
      System.out.printf(Locale.ROOT, "greedy top-1 accuracy: %.4f (%d problems)%n", r.greedyAccuracy(), r.problems());
      if (r.votingAccuracy() != null) {
        System.out.printf(Locale.ROOT, "voting@%d accuracy: %.4f%n", r.votingK(), r.votingAccuracy());
      }
      System.out.println("greedy outcomes: " + r.outcomes());
      if (!r.accuracyByDifficulty().isEmpty()) {
        r.accuracyByDifficulty().forEach((k, v) -> System.out.printf(Locale.ROOT, "  %s: %.4f%n", k, v));
      }
      System.out.printf(Locale.ROOT, "mean response length: %.1f tokens%n", r.meanResponseLength());
      return 0;
    }
  }

  private static String progress(int done, int total) {
    int width = 30;
    int filled = (int) Math.round(width * Math.min(1.0, done / (double) Math.max(1, total)));
    return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/" + total;
  }
}
