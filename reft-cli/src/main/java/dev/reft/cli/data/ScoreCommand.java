package dev.reft.cli.data;

import dev.reft.cli.Settings;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.Outcome;
import dev.reft.tasks.Grade;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import dev.reft.tasks.sandbox.SandboxUnavailableException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code reft data score FILE}: grades every item's own annotation against its own answer with the project's
 * reward rule (P-CoT programs in the sandbox), and ends with one summary line.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
    description = {"Score each item's answer_cot against its own answer_value with the ReFT reward rule",
        "(P-CoT programs run in the sandbox). Ends with one line:",
        "  items=N correct=N wrong=N no_answer=N exec_error=N timeout=N violation=N accuracy=X"})
public final class ScoreCommand implements Callable<Integer> {

  /** A style on the command line. */
  public enum Style { ncot, pcot, mcq }

  @Parameters(paramLabel = "FILE", description = "A ReFT JSON (.json) or GSM8K JSONL (.jsonl) file with annotations.")
  Path file;

  @Option(names = "--style", description = "ncot, pcot or mcq (default: from the file name; *python* = pcot).")
  Style style;

  @Option(names = "--show", defaultValue = "20", description = "Print up to this many items that are not correct (default: ${DEFAULT-VALUE}).")
  int show;

  @Option(names = "--workers", description = "Sandbox workers for P-CoT (default: reft.sandbox.workers or the number of CPUs).")
  Integer workers;

  @Option(names = "--mode", description = "Sandbox mode for P-CoT: pooled or process-per-program (default: reft.sandbox.mode or pooled).")
  String mode;

  @Option(names = "--timeout-ms", description = "Wall-clock limit per program (default: reft.sandbox.timeout-ms or 2000).")
  Long timeoutMs;

  @Override
  public Integer call() throws Exception {
    CotStyle forced = style == null ? null : CotStyle.valueOf(style.name().toUpperCase(Locale.ROOT));
    List<Problem> problems = dev.reft.tasks.Datasets.read(file, forced);
    List<String> unannotated = problems.stream().filter(p -> !p.hasCot()).map(Problem::id).limit(5).toList();
    if (!unannotated.isEmpty()) {
      System.err.println("reft data score: " + file + " has items without answer_cot (e.g. "
          + String.join(", ", unannotated) + "); there is nothing to score for them.");
      return 2;
    }
    boolean needsSandbox = problems.stream().anyMatch(p -> p.style() == CotStyle.PCOT);
    PythonSandbox sandbox = null;
    try {
      if (needsSandbox) {
        sandbox = PythonSandbox.start(sandboxConfig());
      }
      List<Grade> grades = grade(problems, new Grader(sandbox), sandbox == null ? 1 : sandbox.config().workers() * 2);
      Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
      int shown = 0;
      for (int i = 0; i < problems.size(); i++) {
        Grade g = grades.get(i);
        counts.merge(g.outcome(), 1, Integer::sum);
        if (!g.correct() && shown++ < show) {
          Problem p = problems.get(i);
          System.out.printf("%s %s gold=%s extracted=%s%s%n", p.id(), g.outcome(), p.goldAnswer(), g.extractedAnswer(),
              g.error() == null ? "" : " error=" + g.error());
        }
      }
      int n = problems.size();
      int correct = counts.getOrDefault(Outcome.CORRECT, 0);
      System.out.printf(Locale.ROOT, "items=%d correct=%d wrong=%d no_answer=%d exec_error=%d timeout=%d violation=%d accuracy=%.4f%n",
          n, correct, counts.getOrDefault(Outcome.WRONG, 0), counts.getOrDefault(Outcome.NO_ANSWER, 0),
          counts.getOrDefault(Outcome.EXEC_ERROR, 0), counts.getOrDefault(Outcome.TIMEOUT, 0),
          counts.getOrDefault(Outcome.SANDBOX_VIOLATION, 0), n == 0 ? 0.0 : (double) correct / n);
      return 0;
    } catch (SandboxUnavailableException e) {
      System.err.println("reft data score: " + e.getMessage());
      return 1;
    } finally {
      if (sandbox != null) {
        sandbox.close();
      }
    }
  }

  private SandboxConfig sandboxConfig() {
    SandboxConfig c = SandboxConfig.from(Settings::lookup);
    if (workers != null) {
      c = c.withWorkers(workers);
    }
    if (mode != null) {
      c = c.withMode(SandboxConfig.Mode.parse(mode));
    }
    if (timeoutMs != null) {
      c = c.withTimeout(Duration.ofMillis(timeoutMs));
    }
    return c;
  }

  /**
   * What is graded: the annotation as written for N-CoT and MCQ; for P-CoT the annotated program without its
   * header, which the grader puts back ({@code def solution():} and the question as docstring), exactly as it
   * does for a generated response.
   */
  static String response(Problem p) {
    return p.style() == CotStyle.PCOT ? Prompts.target(p) : p.cot();
  }

  /** Grades all items, several at a time so that every sandbox worker stays busy; results in item order. */
  private static List<Grade> grade(List<Problem> problems, Grader grader, int parallelism) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(parallelism);
    try {
      List<Future<Grade>> futures = new ArrayList<>(problems.size());
      for (Problem p : problems) {
        futures.add(pool.submit(() -> grader.grade(p.style(), p.question(), response(p), p.goldAnswer())));
      }
      List<Grade> grades = new ArrayList<>(problems.size());
      for (Future<Grade> f : futures) {
        grades.add(f.get());
      }
      return grades;
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    } finally {
      pool.shutdownNow();
    }
  }
}
