package dev.reft.cli.demo;

import dev.reft.schemas.EvalResult;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.Topics;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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
  private volatile boolean running = true;
  private volatile int totalUpdates;
  private String lastBar = "";
  private static final int MEAN_OF = 10;
  /** Reward and accuracy of the current run's latest updates, for the mean the progress line shows. */
  private final Deque<double[]> recent = new ArrayDeque<>();
  private String recentRun = "";

  private RunMonitor(String bootstrap, String runPrefix, PrintStream out) {
    this.runPrefix = runPrefix;
    this.out = out;
    this.tty = System.console() != null;
    this.consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "reft-demo-monitor-" + runPrefix,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new ByteArrayDeserializer());
    consumer.subscribe(List.of(Topics.LEARNER_UPDATES.defaultName(), Topics.EVAL.defaultName()));
  }

  /** Starts following the runs whose ids start with {@code runPrefix}, on a daemon thread. */
  static RunMonitor start(String bootstrap, String runPrefix, PrintStream out) {
    RunMonitor monitor = new RunMonitor(bootstrap, runPrefix, out);
    Thread thread = new Thread(monitor, "reft-run-monitor");
    thread.setDaemon(true);
    thread.start();
    return monitor;
  }

  /** The number of PPO updates of the current ReFT phase, for its progress bar. */
  void expectUpdates(int updates) {
    totalUpdates = updates;
  }

  @Override
  public void run() {
    try {
      while (running) {
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

  private synchronized void onUpdate(LearnerUpdate u) {
    Map<String, Double> m = u.getMetrics();
    String bar;
    boolean byEpoch = "sft".equals(u.getMode()) || "offline-st".equals(u.getMode());
    if (byEpoch) {
      double epochs = m.getOrDefault("epochs", 1.0);
      double done = (m.getOrDefault("epoch", 1.0) - 1 + m.getOrDefault("epoch_progress", 1.0)) / epochs;
      bar = String.format(Locale.ROOT, "%-12s %s epoch %.0f/%.0f  loss %.3f", label(u.getRunId(), u.getMode()),
          bar(done), m.getOrDefault("epoch", 0.0), epochs, m.getOrDefault("epoch_mean_loss", m.getOrDefault("loss", Double.NaN)))
          + (m.containsKey("tokens_per_second") ? String.format(Locale.ROOT, "  %,.0f tokens/s", m.get("tokens_per_second")) : "");
    } else {
      int total = Math.max(1, totalUpdates);
      double reward = m.getOrDefault("reward_mean", Double.NaN);
      double accuracy = m.getOrDefault("accuracy", Double.NaN);
      double[] mean = recentMean(u.getRunId() + "/" + u.getMode(), reward, accuracy);
      bar = String.format(Locale.ROOT, "%-12s %s update %d/%d  reward %.3f  acc %.3f (last %d: %.3f, %.3f)  KL %.2f  lag %.1f  %,.0f tokens/s",
          label(u.getRunId(), u.getMode()), bar(u.getPolicyVersion() / (double) total), u.getPolicyVersion(), total,
          reward, accuracy, recent.size(), mean[0], mean[1],
          m.getOrDefault("kl_to_ref", Double.NaN), m.getOrDefault("policy_lag_mean", Double.NaN),
          m.getOrDefault("tokens_per_second", 0.0));
    }
    if (tty) {
      out.print("\r" + bar + " ".repeat(Math.max(0, lastBar.length() - bar.length())));
      out.flush();
    } else if (byEpoch ? m.getOrDefault("epoch_progress", 1.0) >= 1.0 : u.getPolicyVersion() % 10 == 0) {
      out.println(bar);
    }
    lastBar = bar;
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
