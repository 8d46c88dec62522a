package dev.reft.cli.demo;

import dev.reft.schemas.EvalResult;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The held-out accuracy table of a demo or the paper table: one row per method, from each of its runs' final
 * evaluation on the synthetic test split (greedy top-1, voting@K, the share of greedy chains that took a cheapest
 * path) and on the harder slice, read from {@code reft.eval}. A row with one run per seed shows the mean and its
 * standard error over the seeds that have a result.
 */
final class ResultTable {

  private record Row(String label, String mode, List<String> runIds) {}

  private final int votingK;
  private final List<Row> rows = new ArrayList<>();

  ResultTable(int votingK) {
    this.votingK = votingK;
  }

  /** A method: its label, learner mode, and one run id per seed. */
  ResultTable row(String label, String mode, List<String> runIds) {
    rows.add(new Row(label, mode, List.copyOf(runIds)));
    return this;
  }

  /** A method with a single run. */
  ResultTable row(String label, String runId, String mode) {
    return row(label, mode, List.of(runId));
  }

  /** One column: a figure of the test split's or the hard slice's final evaluation. */
  private record Column(String header, String dataset, Function<EvalResult, Double> value) {}

  private List<Column> columns() {
    return List.of(
        new Column("greedy", "synthetic-test", e -> e.getGreedyAccuracy()),
        new Column("voting@" + votingK, "synthetic-test", EvalResult::getVotingAccuracy),
        new Column("cheapest path", "synthetic-test", EvalResult::getCheapestPathShare),
        new Column("hard slice", "synthetic-hard", e -> e.getGreedyAccuracy()));
  }

  /** Fixed-width text for the terminal. */
  String text(List<EvalResult> evals) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-32s %8s", "held-out (synthetic)", "version"));
    for (Column c : columns()) {
      sb.append(String.format(Locale.ROOT, " %15s", c.header()));
    }
    sb.append(String.format(Locale.ROOT, "%n"));
    for (Row r : rows) {
      List<EvalResult> finals = finals(evals, r, "synthetic-test");
      if (finals.isEmpty()) {
        sb.append(String.format(Locale.ROOT, "%-32s %8s%n", r.label(), "(not run)"));
        continue;
      }
      sb.append(String.format(Locale.ROOT, "%-32s %8s", r.label(), "v" + finals.get(0).getPolicyVersion()));
      for (Column c : columns()) {
        sb.append(String.format(Locale.ROOT, " %15s", cell(evals, r, c)));
      }
      sb.append(String.format(Locale.ROOT, "%n"));
    }
    return sb.toString();
  }

  /** The same as a markdown table. */
  String markdown(List<EvalResult> evals) {
    StringBuilder sb = new StringBuilder("| method | runs | version |");
    StringBuilder rule = new StringBuilder("| --- | --- | ---: |");
    for (Column c : columns()) {
      sb.append(' ').append(c.header()).append(" |");
      rule.append(" ---: |");
    }
    sb.append('\n').append(rule).append('\n');
    for (Row r : rows) {
      List<EvalResult> finals = finals(evals, r, "synthetic-test");
      sb.append("| ").append(r.label()).append(" | ").append(String.join(", ", r.runIds().stream().map(id -> "`" + id + "`").toList()))
          .append(" | ").append(finals.isEmpty() ? "not run" : "v" + finals.get(0).getPolicyVersion()).append(" |");
      for (Column c : columns()) {
        sb.append(' ').append(cell(evals, r, c)).append(" |");
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** A column's figure for a row: the value, or the mean ± standard error over the seeds; {@code -} when none. */
  private String cell(List<EvalResult> evals, Row r, Column c) {
    List<Double> values = new ArrayList<>();
    for (EvalResult e : finals(evals, r, c.dataset())) {
      Double v = c.value().apply(e);
      if (v != null) {
        values.add(100 * v);
      }
    }
    if (values.isEmpty()) {
      return "-";
    }
    if (r.runIds().size() == 1) {
      return String.format(Locale.ROOT, "%.1f%%", values.get(0));
    }
    MeanAndError m = MeanAndError.of(values);
    return String.format(Locale.ROOT, "%.1f ± %.1f%s", m.mean(), m.standardError(),
        values.size() < r.runIds().size() ? " (" + values.size() + ")" : "");
  }

  /** The final evaluation of each of a row's runs on a data set (runs without one are left out). */
  private static List<EvalResult> finals(List<EvalResult> evals, Row r, String dataset) {
    List<EvalResult> out = new ArrayList<>();
    for (String run : r.runIds()) {
      finalEval(evals, run, r.mode(), dataset).ifPresent(out::add);
    }
    return out;
  }

  /** A run's final evaluation: the newest one of its newest version (its periodic evaluations come first). */
  static Optional<EvalResult> finalEval(List<EvalResult> evals, String run, String mode, String dataset) {
    return evals.stream().filter(e -> e.getRunId().equals(run) && e.getMode().equals(mode) && e.getDataset().equals(dataset))
        .max(Comparator.comparingLong(EvalResult::getPolicyVersion).thenComparing(EvalResult::getCreatedAt));
  }

  /**
   * The mean of figures and its standard error, {@code s / √n} with the sample standard deviation s (n − 1); the
   * error of a single figure is 0.
   */
  record MeanAndError(double mean, double standardError) {
    static MeanAndError of(List<Double> values) {
      int n = values.size();
      double mean = values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
      if (n < 2) {
        return new MeanAndError(mean, 0);
      }
      double squares = values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
      return new MeanAndError(mean, Math.sqrt(squares / (n - 1)) / Math.sqrt(n));
    }
  }
}
