package dev.reft.cli.bench;

import dev.reft.cli.Settings;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Datasets;
import dev.reft.tasks.Grade;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import dev.reft.tasks.sandbox.SandboxUnavailableException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft bench sandbox}: runs the 3,043 SVAMP P-CoT programs through the P-CoT sandbox (graded, as the
 * reward service does) and prints programs/s and latency percentiles.
 */
@Command(name = "sandbox", mixinStandardHelpOptions = true,
    description = {"Run the SVAMP P-CoT programs through the sandbox and print programs/s and p50/p99 latency.",
        "Latency is the wall time of one grading call as its caller sees it."})
public final class SandboxBenchCommand implements Callable<Integer> {

  @Option(names = "--workers", description = "Sandbox workers (default: the number of CPUs).")
  Integer workers;

  @Option(names = "--mode", defaultValue = "pooled", description = "pooled or process-per-program (default: ${DEFAULT-VALUE}).")
  String mode;

  @Option(names = "--threads", description = "Calling threads (default: one per worker).")
  Integer threads;

  @Option(names = "--rounds", defaultValue = "1", description = "Times to run the whole file (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--warmup", defaultValue = "300", description = "Programs run first and not measured (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--file", description = "P-CoT file (default: <reft.data.dir or data>/reft/svamp_python_sdp.json).")
  Path file;

  @Override
  public Integer call() throws Exception {
    Path data = file != null ? file
        : Path.of(Settings.lookup("reft.data.dir").orElse("data"), "reft", "svamp_python_sdp.json");
    if (!Files.isRegularFile(data)) {
      System.err.println("reft bench sandbox: no such file " + data.toAbsolutePath() + " (use --file)");
      return 2;
    }
    List<Problem> problems = Datasets.read(data, CotStyle.PCOT);
    SandboxConfig config = SandboxConfig.from(Settings::lookup).withMode(SandboxConfig.Mode.parse(mode));
    if (workers != null) {
      config = config.withWorkers(workers);
    }
    int callers = threads != null ? threads : config.workers();
    long t0 = System.nanoTime();
    try (PythonSandbox sandbox = PythonSandbox.start(config)) {
      double startSeconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "sandbox: mode=%s workers=%d threads=%d timeout=%dms memory=%dMiB python=%s; started in %.2f s%n",
          config.mode(), config.workers(), callers, config.timeout().toMillis(), config.memoryBytes() >> 20,
          sandbox.pythonVersion(), startSeconds);
      Grader grader = new Grader(sandbox);
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      try {
        run(pool, grader, problems.subList(0, Math.min(warmup, problems.size())), new long[0]);
        List<Problem> measured = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
          measured.addAll(problems);
        }
        long[] latencies = new long[measured.size()];
        long restartsBefore = sandbox.restartCount();
        long start = System.nanoTime();
        int correct = run(pool, grader, measured, latencies);
        double seconds = (System.nanoTime() - start) / 1e9;
        Arrays.sort(latencies);
        System.out.printf(Locale.ROOT, "programs=%d correct=%d (%s)%n", measured.size(), correct, data.getFileName());
        System.out.printf(Locale.ROOT, "throughput=%.0f programs/s (%.2f s)  latency p50=%.2f ms p90=%.2f ms p99=%.2f ms max=%.2f ms  worker restarts=%d%n",
            measured.size() / seconds, seconds, ms(latencies, 0.50), ms(latencies, 0.90), ms(latencies, 0.99),
            latencies[latencies.length - 1] / 1e6, sandbox.restartCount() - restartsBefore);
        return correct == measured.size() ? 0 : 1;
      } finally {
        pool.shutdownNow();
      }
    } catch (SandboxUnavailableException e) {
      System.err.println("reft bench sandbox: " + e.getMessage());
      return 1;
    }
  }

  /** Grades all problems with the pool's threads; records each call's latency (ns) when the array is long enough. */
  private static int run(ExecutorService pool, Grader grader, List<Problem> problems, long[] latencies) throws Exception {
    AtomicInteger correct = new AtomicInteger();
    List<Future<?>> futures = new ArrayList<>(problems.size());
    for (int i = 0; i < problems.size(); i++) {
      Problem p = problems.get(i);
      int index = i;
      futures.add(pool.submit(() -> {
        long t = System.nanoTime();
        Grade g = grader.grade(CotStyle.PCOT, p.question(), Prompts.target(p), p.goldAnswer());
        if (index < latencies.length) {
          latencies[index] = System.nanoTime() - t;
        }
        if (g.correct()) {
          correct.incrementAndGet();
        }
      }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    return correct.get();
  }

  private static double ms(long[] sorted, double q) {
    int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[i] / 1e6;
  }
}
