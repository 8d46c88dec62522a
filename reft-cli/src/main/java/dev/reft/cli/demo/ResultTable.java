package dev.reft.cli.demo;

import dev.reft.schemas.EvalResult;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The held-out accuracy table of a demo or the paper table: one row per run, its final evaluation on the
 * synthetic test split (greedy top-1 and voting@K) and on the harder 4-step slice, read from
 * {@code reft.eval}.
 */
final class ResultTable {

  private record Row(String label, String runId, String mode) {}

  private final int votingK;
  private final List<Row> rows = new ArrayList<>();

  ResultTable(int votingK) {
    this.votingK = votingK;
  }

  ResultTable row(String label, String runId, String mode) {
    rows.add(new Row(label, runId, mode));
    return this;
  }

  /** Fixed-width text for the terminal. */
  String text(List<EvalResult> evals) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-26s %8s %8s %12s %10s%n", "held-out (synthetic)", "version", "greedy",
        "voting@" + votingK, "4-step"));
    for (Row r : rows) {
      Optional<EvalResult> test = finalEval(evals, r.runId(), r.mode(), "synthetic-test");
      if (test.isEmpty()) {
        sb.append(String.format(Locale.ROOT, "%-26s %8s%n", r.label(), "(not run)"));
        continue;
      }
      sb.append(String.format(Locale.ROOT, "%-26s %8s %8s %12s %10s%n", r.label(), "v" + test.get().getPolicyVersion(),
          percent(test.get().getGreedyAccuracy()), percent(test.get().getVotingAccuracy()),
          finalEval(evals, r.runId(), r.mode(), "synthetic-hard").map(h -> percent(h.getGreedyAccuracy())).orElse("-")));
    }
    return sb.toString();
  }

  /** The same as a markdown table. */
  String markdown(List<EvalResult> evals) {
    StringBuilder sb = new StringBuilder();
    sb.append("| method | run | version | greedy top-1 | voting@").append(votingK).append(" | 4-step greedy |\n");
    sb.append("| --- | --- | ---: | ---: | ---: | ---: |\n");
    for (Row r : rows) {
      Optional<EvalResult> test = finalEval(evals, r.runId(), r.mode(), "synthetic-test");
      sb.append(String.format(Locale.ROOT, "| %s | `%s` | %s | %s | %s | %s |%n", r.label(), r.runId(),
          test.map(e -> "v" + e.getPolicyVersion()).orElse("not run"),
          test.map(e -> percent(e.getGreedyAccuracy())).orElse("-"),
          test.map(e -> percent(e.getVotingAccuracy())).orElse("-"),
          finalEval(evals, r.runId(), r.mode(), "synthetic-hard").map(h -> percent(h.getGreedyAccuracy())).orElse("-")));
    }
    return sb.toString();
  }

  /** A run's final evaluation: the newest one of its newest version (its periodic evaluations come first). */
  static Optional<EvalResult> finalEval(List<EvalResult> evals, String run, String mode, String dataset) {
    return evals.stream().filter(e -> e.getRunId().equals(run) && e.getMode().equals(mode) && e.getDataset().equals(dataset))
        .max(Comparator.comparingLong(EvalResult::getPolicyVersion).thenComparing(EvalResult::getCreatedAt));
  }

  private static String percent(Double value) {
    return value == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * value);
  }
}
