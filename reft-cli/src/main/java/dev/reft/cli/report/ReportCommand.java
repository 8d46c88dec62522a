package dev.reft.cli.report;

import dev.reft.kafka.local.TopicReader;
import dev.reft.learner.metrics.Metric;
import dev.reft.schemas.EvalResult;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.RewardStats;
import dev.reft.schemas.Topic;
import dev.reft.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft report --run RUN}: reads a run's evaluations ({@code reft.eval}), reward totals per version
 * ({@code reft.reward.stats}) and learner diagnostics ({@code reft.learner.updates}) back from Kafka and
 * writes a markdown report with PNG charts (XChart).
 */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = "Write a markdown report with charts of a run, read from its topics.")
public final class ReportCommand implements Callable<Integer> {

  @Option(names = "--run", required = true, description = "The run id.")
  String run;

  @Option(names = "--bootstrap", defaultValue = "localhost:9092", description = "Kafka cluster (default: ${DEFAULT-VALUE}).")
  String bootstrap;

  @picocli.CommandLine.Mixin
  dev.reft.cli.kafka.KafkaClientOptions kafka = new dev.reft.cli.kafka.KafkaClientOptions();

  @Option(names = "--out", description = "Directory to write into (default: var/reports/<run>).")
  Path out;

  @Override
  public Integer call() throws Exception {
    System.setProperty("java.awt.headless", "true");
    dev.reft.cli.kafka.LocalBrokerProcess.requireReachable(kafka.client(bootstrap));
    Path dir = out != null ? out : Path.of("var", "reports", run);
    Files.createDirectories(dir);
    List<LearnerUpdate> updates = read(Topics.LEARNER_UPDATES).stream()
        .filter(u -> run.equals(u.getRunId()) && !"sft".equals(u.getMode()) && !"offline-st".equals(u.getMode()))
        .sorted(Comparator.comparingLong(LearnerUpdate::getPolicyVersion)).toList();
    List<EvalResult> evals = read(Topics.EVAL).stream().filter(e -> run.equals(e.getRunId()))
        .sorted(Comparator.comparingLong(EvalResult::getPolicyVersion).thenComparing(EvalResult::getCreatedAt)).toList();
    Map<Long, RewardStats> stats = new TreeMap<>();
    for (RewardStats s : read(Topics.REWARD_STATS)) {
      if (run.equals(s.getRunId())) {
        stats.put(s.getPolicyVersion(), s); // compacted: the last value per version is the total
      }
    }
    if (updates.isEmpty() && evals.isEmpty() && stats.isEmpty()) {
      System.err.println("reft report: nothing recorded for run " + run + " on " + bootstrap);
      return 1;
    }
    StringBuilder md = new StringBuilder("# Run " + run + "\n\n");
    md.append(String.format(Locale.ROOT, "%d updates, %d evaluations, %d policy versions graded by the reward service.%n%n",
        updates.size(), evals.size(), stats.size()));
    if (!evals.isEmpty()) {
      md.append("## Held-out evaluations\n\n| mode | version | data set | problems | greedy | voting |\n| --- | --- | --- | --- | --- | --- |\n");
      for (EvalResult e : evals) {
        md.append(String.format(Locale.ROOT, "| %s | %d | %s | %d | %.1f %% | %s |%n", e.getMode(), e.getPolicyVersion(),
            e.getDataset(), e.getProblems(), 100 * e.getGreedyAccuracy(), e.getVotingAccuracy() == null ? "-"
                : String.format(Locale.ROOT, "%.1f %% (K=%d)", 100 * e.getVotingAccuracy(), e.getVotingK())));
      }
      md.append('\n');
    }
    List<String> charts = new ArrayList<>();
    chart(dir, charts, "reward", "mean reward", Map.of(
        "learner batches", series(updates, u -> metric(u, Metric.REWARD_MEAN)),
        "reward service", seriesOf(stats, RewardStats::getMeanReward)));
    Map<String, double[][]> accuracy = new LinkedHashMap<>();
    accuracy.put("train samples", series(updates, u -> metric(u, Metric.ACCURACY)));
    accuracy.put("held-out greedy", evalSeries(evals, "synthetic-test", false));
    accuracy.put("held-out voting", evalSeries(evals, "synthetic-test", true));
    chart(dir, charts, "accuracy", "accuracy", accuracy);
    chart(dir, charts, "kl", "KL to the warm-up policy (nats / sequence)", Map.of(Metric.KL_TO_REF.key(), series(updates, u -> metric(u, Metric.KL_TO_REF))));
    chart(dir, charts, "entropy", "entropy (nats / token)", Map.of(Metric.ENTROPY.key(), series(updates, u -> metric(u, Metric.ENTROPY))));
    chart(dir, charts, "response-length", "response length (tokens)", Map.of(
        "learner batches", series(updates, u -> metric(u, Metric.RESPONSE_LENGTH)),
        "reward service", seriesOf(stats, RewardStats::getMeanResponseLength)));
    chart(dir, charts, "policy-lag", "policy lag (versions)", Map.of(
        "mean", series(updates, u -> metric(u, Metric.POLICY_LAG_MEAN)), "max", series(updates, u -> metric(u, Metric.POLICY_LAG_MAX))));
    md.append("## Over policy versions\n\n");
    for (String c : charts) {
      md.append("![").append(c).append("](").append(c).append(".png)\n\n");
    }
    Files.writeString(dir.resolve("report.md"), md.toString());
    System.out.println("wrote " + dir.resolve("report.md") + " with " + charts.size() + " charts");
    return 0;
  }

  private <V> List<V> read(Topic<String, V> topic) {
    List<V> values = new ArrayList<>();
    for (ConsumerRecord<String, V> r : TopicReader.readAll(kafka.client(bootstrap), topic.defaultName(), topic.keySerde().deserializer(),
        topic.valueSerde().deserializer(), Duration.ofSeconds(60))) {
      if (r.value() != null) {
        values.add(r.value());
      }
    }
    return values;
  }

  private static double metric(LearnerUpdate u, Metric metric) {
    return u.getMetrics().getOrDefault(metric.key(), Double.NaN);
  }

  private static double[][] series(List<LearnerUpdate> updates, ToDoubleFunction<LearnerUpdate> f) {
    List<double[]> points = new ArrayList<>();
    for (LearnerUpdate u : updates) {
      double y = f.applyAsDouble(u);
      if (Double.isFinite(y)) {
        points.add(new double[] {u.getPolicyVersion(), y});
      }
    }
    return columns(points);
  }

  private static double[][] seriesOf(Map<Long, RewardStats> stats, ToDoubleFunction<RewardStats> f) {
    List<double[]> points = new ArrayList<>();
    stats.forEach((v, s) -> points.add(new double[] {v, f.applyAsDouble(s)}));
    return columns(points);
  }

  private static double[][] evalSeries(List<EvalResult> evals, String dataset, boolean voting) {
    List<double[]> points = new ArrayList<>();
    for (EvalResult e : evals) {
      if (e.getDataset().equals(dataset) && (!voting || e.getVotingAccuracy() != null)) {
        points.add(new double[] {e.getPolicyVersion(), voting ? e.getVotingAccuracy() : e.getGreedyAccuracy()});
      }
    }
    return columns(points);
  }

  private static double[][] columns(List<double[]> points) {
    double[][] xy = new double[2][points.size()];
    for (int i = 0; i < points.size(); i++) {
      xy[0][i] = points.get(i)[0];
      xy[1][i] = points.get(i)[1];
    }
    return xy;
  }

  private static void chart(Path dir, List<String> charts, String name, String yTitle, Map<String, double[][]> series)
      throws Exception {
    XYChart chart = new XYChartBuilder().width(800).height(400).title(yTitle).xAxisTitle("policy version")
        .yAxisTitle(yTitle).build();
    int added = 0;
    for (Map.Entry<String, double[][]> s : series.entrySet()) {
      if (s.getValue()[0].length > 0) {
        chart.addSeries(s.getKey(), s.getValue()[0], s.getValue()[1]);
        added++;
      }
    }
    if (added == 0) {
      return;
    }
    BitmapEncoder.saveBitmap(chart, dir.resolve(name).toString(), BitmapEncoder.BitmapFormat.PNG);
    charts.add(name);
  }
}
