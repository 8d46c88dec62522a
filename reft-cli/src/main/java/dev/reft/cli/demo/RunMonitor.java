package dev.reft.cli.demo;

import dev.reft.learner.metrics.Metric;
import dev.reft.schemas.EvalResult;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.Topics;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Follows a run on {@code reft.learner.updates} and {@code reft.eval} and draws its progress: a bar for
 * the warm-up epochs and the PPO updates, and one line per evaluation. Keeps every evaluation for the final
 * table.
 */
final class RunMonitor implements Runnable, AutoCloseable {

  private final KafkaConsumer<String, byte[]> consumer;
  private final String runPrefix;
  private final PrintStream out;
  private final boolean tty;
  private final List<EvalResult> evals = new ArrayList<>();
  private final Map<String, Long> versions = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean running = true;
  private volatile int totalUpdates;
  private String lastBar = "";
  private static final int MEAN_OF = 10;
  /** Reward and accuracy of the current run's latest updates, for the mean the progress line shows. */
  private final Deque<double[]> recent = new ArrayDeque<>();
  private String recentRun = "";

  private static final List<String> TOPICS = List.of(Topics.LEARNER_UPDATES.defaultName(), Topics.EVAL.defaultName());
  private final Map<String, Object> client;
  private volatile CatchUp catchUp;

  private RunMonitor(Map<String, Object> client, String runPrefix, PrintStream out) {
    this.client = Map.copyOf(client);
    this.runPrefix = runPrefix;
    this.out = out;
    this.tty = System.console() != null;
    Map<String, Object> config = new HashMap<>(client);
    config.putAll(Map.of(
        ConsumerConfig.GROUP_ID_CONFIG, "reft-demo-monitor-" + runPrefix,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
    this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    consumer.subscribe(TOPICS);
  }

  /** Starts following the runs whose ids start with {@code runPrefix}, on a daemon thread. */
  static RunMonitor start(Map<String, Object> client, String runPrefix, PrintStream out) {
    RunMonitor monitor = new RunMonitor(client, runPrefix, out);
    Thread thread = new Thread(monitor, "reft-run-monitor");
    thread.setDaemon(true);
    thread.start();
    return monitor;
  }

  /** The number of PPO updates of the current ReFT phase, for its progress bar. */
  void expectUpdates(int updates) {
    totalUpdates = updates;
  }

  /**
   * Waits until the monitor has read everything written to its topics before this call — so that the evaluations of
   * a learner that has exited are all in {@link #evaluations()}.
   *
   * @throws IllegalStateException when it has not caught up within the timeout
   */
  void awaitCaughtUp(Duration timeout) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    Map<TopicPartition, Long> ends;
    try (Admin admin = Admin.create(client)) {
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (String topic : TOPICS) {
        admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
            .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
      }
      ends = new HashMap<>();
      admin.listOffsets(latest).all().get().forEach((tp, info) -> ends.put(tp, info.offset()));
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot read the end offsets of " + TOPICS + ": " + e.getCause().getMessage(), e);
    }
    catchUp = new CatchUp(ends, done);
    if (!done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("the run monitor did not read " + TOPICS + " to their ends within " + timeout);
    }
  }

  /** A caller waiting for the monitor to reach these offsets. */
  private record CatchUp(Map<TopicPartition, Long> ends, CountDownLatch done) {}

  @Override
  public void run() {
    try {
      while (running) {
        CatchUp waiting = catchUp;
        if (waiting != null && waiting.ends().entrySet().stream()
            .allMatch(e -> consumer.assignment().contains(e.getKey()) && consumer.position(e.getKey()) >= e.getValue())) {
          catchUp = null;
          waiting.done().countDown();
        }
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(300))) {
          if (r.key() == null || !r.key().startsWith(runPrefix)) {
            continue;
          }
          try {
            if (r.topic().equals(Topics.EVAL.defaultName())) {
              onEval(Topics.EVAL.valueSerde().deserializer().deserialize(r.topic(), r.value()));
            } else {
              onUpdate(Topics.LEARNER_UPDATES.valueSerde().deserializer().deserialize(r.topic(), r.value()));
            }
          } catch (RuntimeException e) {
            // not a record of ours
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /** The newest policy version of a run's rollout loop seen on {@code reft.learner.updates} (0: none yet). */
  long version(String run) {
    return versions.getOrDefault(run, 0L);
  }

  private synchronized void onUpdate(LearnerUpdate u) {
    if (!"sft".equals(u.getMode()) && !"offline-st".equals(u.getMode())) {
      versions.merge(u.getRunId(), u.getPolicyVersion(), Math::max);
    }
    Map<String, Double> m = u.getMetrics();
    String bar;
    boolean byEpoch = "sft".equals(u.getMode()) || "offline-st".equals(u.getMode());
    if (byEpoch) {
      double epochs = get(m, Metric.EPOCHS, 1.0);
      double done = (get(m, Metric.EPOCH, 1.0) - 1 + get(m, Metric.EPOCH_PROGRESS, 1.0)) / epochs;
      bar = String.format(Locale.ROOT, "%-12s %s epoch %.0f/%.0f  loss %.3f", label(u.getRunId(), u.getMode()),
          bar(done), get(m, Metric.EPOCH, 0.0), epochs, get(m, Metric.EPOCH_MEAN_LOSS, get(m, Metric.LOSS, Double.NaN)))
          + (m.containsKey(Metric.TOKENS_PER_SECOND.key()) ? String.format(Locale.ROOT, "  %,.0f tokens/s", m.get(Metric.TOKENS_PER_SECOND.key())) : "");
    } else {
      int total = Math.max(1, totalUpdates);
      double reward = get(m, Metric.REWARD_MEAN, Double.NaN);
      double accuracy = get(m, Metric.ACCURACY, Double.NaN);
      double[] mean = recentMean(u.getRunId() + "/" + u.getMode(), reward, accuracy);
      bar = String.format(Locale.ROOT, "%-12s %s update %d/%d  reward %.3f  acc %.3f (last %d: %.3f, %.3f)",
          label(u.getRunId(), u.getMode()), bar(u.getPolicyVersion() / (double) total), u.getPolicyVersion(), total,
          reward, accuracy, recent.size(), mean[0], mean[1]) + rolloutMetrics(m);
    }
    if (tty) {
      out.print("\r" + bar + " ".repeat(Math.max(0, lastBar.length() - bar.length())));
      out.flush();
    } else if (byEpoch ? get(m, Metric.EPOCH_PROGRESS, 1.0) >= 1.0 : u.getPolicyVersion() % 10 == 0) {
      out.println(bar);
    }
    lastBar = bar;
  }

  /**
   * The end of a rollout update's progress line: the metrics the update reports (PPO: KL, lag, speed; Online-ST:
   * its loss, lag and speed; a batch with no correct sample trains nothing and has neither loss nor speed).
   */
  static String rolloutMetrics(Map<String, Double> m) {
    StringBuilder s = new StringBuilder();
    optional(s, m, Metric.SFT_LOSS, "  loss %.3f");
    optional(s, m, Metric.KL_TO_REF, "  KL %.2f");
    optional(s, m, Metric.POLICY_LAG_MEAN, "  lag %.1f");
    optional(s, m, Metric.TOKENS_PER_SECOND, "  %,.0f tokens/s");
    return s.toString();
  }

  private static void optional(StringBuilder s, Map<String, Double> m, Metric metric, String format) {
    if (m.containsKey(metric.key())) {
      s.append(String.format(Locale.ROOT, format, m.get(metric.key())));
    }
  }

  /**
   * Adds an update's reward and accuracy and returns their means over the run's last {@value #MEAN_OF} updates:
   * one batch of 128 samples moves by ±0.1, so the trend shows in the mean.
   */
  private double[] recentMean(String run, double reward, double accuracy) {
    if (!run.equals(recentRun)) {
      recent.clear();
      recentRun = run;
    }
    recent.addLast(new double[] {reward, accuracy});
    if (recent.size() > MEAN_OF) {
      recent.removeFirst();
    }
    double[] mean = new double[2];
    for (double[] r : recent) {
      mean[0] += r[0] / recent.size();
      mean[1] += r[1] / recent.size();
    }
    return mean;
  }

  private synchronized void onEval(EvalResult e) {
    evals.add(e);
    String line = String.format(Locale.ROOT, "%-12s eval v%d on %s: greedy %.1f %%%s (%d problems)", label(e.getRunId(), e.getMode()),
        e.getPolicyVersion(), e.getDataset(), 100 * e.getGreedyAccuracy(),
        e.getVotingAccuracy() == null ? "" : String.format(Locale.ROOT, ", voting@%d %.1f %%", e.getVotingK(), 100 * e.getVotingAccuracy()),
        e.getProblems());
    if (tty && !lastBar.isEmpty()) {
      out.print("\r" + " ".repeat(lastBar.length()) + "\r");
    }
    out.println(line);
    if (tty && !lastBar.isEmpty()) {
      out.print(lastBar);
      out.flush();
    }
  }

  private static double get(Map<String, Double> metrics, Metric metric, double otherwise) {
    return metrics.getOrDefault(metric.key(), otherwise);
  }

  /** Ends the current progress bar line. */
  synchronized void endLine() {
    if (tty && !lastBar.isEmpty()) {
      out.println();
    }
    lastBar = "";
  }

  /** Every evaluation seen so far. */
  synchronized List<EvalResult> evaluations() {
    return new ArrayList<>(evals);
  }

  /** The run's name after the common prefix ({@code best-sft}, {@code reft-b0}, ...), or its mode. */
  private String label(String run, String mode) {
    if (run.length() > runPrefix.length() + 1) {
      return run.substring(runPrefix.length() + 1);
    }
    return "sft".equals(mode) ? "warm-up SFT" : mode;
  }

  private static String bar(double fraction) {
    int width = 24;
    int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * width);
    return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
  }
}
