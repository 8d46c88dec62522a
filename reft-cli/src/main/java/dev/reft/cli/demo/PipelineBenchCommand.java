package dev.reft.cli.demo;

import dev.reft.kafka.local.TopicReader;
import dev.reft.learner.metrics.Metric;
import dev.reft.schemas.EvalResult;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code reft bench pipeline}: the RL loop's throughput through the broker. One warm-up, then for each policy-lag
 * bound a ReFT run of {@code --updates} (default 20) PPO updates at the preset's settings (a fresh sampler each, its
 * parallelism {@code --sampler-parallelism} or the default for the lag bound; the run id ends in
 * {@code -lag<L>-p<parallelism>}), then
 * trajectories/s and response tokens/s over updates 2..N (the first carries start-up; intervals that held an
 * evaluation are left out), and each stage's
 * seconds and share of that wall time: sampling and checkpoint reloads (the sampler's timers), grading (the reward
 * service's), the learner's scoring, PPO passes, checkpoint write and publish, evaluation and waiting. Stages of
 * different processes run at the same time, so their shares can add up to more than 100 %.
 *
 * <p>{@code --analyze RUN} reads an existing run's update records instead of running anything — how a run of
 * another build (an older commit's demo, say) is measured the same way.
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
    description = {"Run PPO updates of a preset through the broker at each --lag and print trajectories/s, tokens/s",
        "and each stage's share of wall time; or --analyze an existing run."})
public final class PipelineBenchCommand implements Callable<Integer> {

  @Mixin
  RunOptions run;

  /** PPO updates per lag bound unless {@code --updates} says otherwise. */
  static final int DEFAULT_UPDATES = 20;

  @Option(names = "--lag", split = ",", defaultValue = "0,2",
      description = "Policy-lag bounds to run (0 = lockstep: one batch of requests in flight) (default: ${DEFAULT-VALUE}).")
  List<Integer> lags;

  @Option(names = "--analyze", description = "Only measure this existing run's updates (needs --bootstrap).")
  String analyze;

  @Option(names = "--trajectories-per-update", defaultValue = "128",
      description = "For --analyze of a run whose records do not say: trajectories per update (default: ${DEFAULT-VALUE}).")
  int trajectoriesPerUpdate;

  @Option(names = "--dir", defaultValue = "var/bench-pipeline", description = "Logs and checkpoints (default: ${DEFAULT-VALUE}).")
  Path dir;

  private static final Pattern SUM = Pattern.compile("^(reft_\\w+_seconds)_sum(\\{[^}]*\\})? ([0-9.eE+-]+)", Pattern.MULTILINE);

  @Override
  public Integer call() throws Exception {
    int benchUpdates = run.updates != null ? run.updates : DEFAULT_UPDATES;
    if (benchUpdates < 2) {
      throw new picocli.CommandLine.ParameterException(run.command.commandLine(), "--updates must be at least 2");
    }
    if (analyze != null) {
      if (run.bootstrap == null) {
        throw new picocli.CommandLine.ParameterException(run.command.commandLine(), "--analyze needs --bootstrap");
      }
      dev.reft.cli.kafka.LocalBrokerProcess.requireReachable(run.kafka.client(run.bootstrap));
      Result r = measure(run.kafka.client(run.bootstrap), analyze, Map.of());
      print(List.of(r));
      return 0;
    }
    Preset p = run.resolve();
    String id = run.newId("bench");
    Path home = dir.toAbsolutePath().resolve(id);
    Path checkpoints = home.resolve("checkpoints");
    try (LocalPipeline pipeline = new LocalPipeline(home, run.bootstrap, run.kafka, false)) {
      System.out.printf("reft bench pipeline, preset %s, style %s, %s: %d updates per lag bound %s on %s%n", p.name(),
          run.style, run.seeds(), benchUpdates, lags, pipeline.servers());
      RunMonitor monitor = RunMonitor.start(pipeline.client(), id, System.out);
      pipeline.manage(monitor);
      Supervisor.Kept reward = pipeline.startReward("reft-reward-" + id);
      Map<String, String> common = DemoCommand.learnerSettings(p, run, id, checkpoints);
      common.put("reft.learner.sft.final-eval", "false");
      common.put("reft.learner.reft.final-eval", "false");
      String warmupRun = id + "-warmup";
      Map<String, String> warmup = new HashMap<>(common);
      warmup.putAll(Map.of("reft.learner.run-id", warmupRun, "reft.learner.mode", "sft",
          "reft.learner.sft.epochs", Integer.toString(p.warmupEpochs()),
          "reft.learner.sft.schedule-epochs", Integer.toString(p.scheduleEpochs())));
      System.out.println("warm-up SFT: " + p.warmupEpochs() + " epochs");
      pipeline.runLearner("learner-warmup", warmup, monitor);
      String init = checkpoints.resolve(warmupRun).resolve("v000000").toString();
      List<Result> results = new ArrayList<>();
      for (int lag : lags) {
        int parallelism = run.samplerParallelism(lag);
        String runId = id + "-lag" + lag + "-p" + parallelism;
        Map<String, Double> rewardBefore = timers(reward.current().metrics());
        Supervisor.Kept sampler = pipeline.startSampler(runId, false, parallelism);
        Map<String, String> props = new HashMap<>(common);
        props.putAll(Map.of("reft.learner.run-id", runId, "reft.learner.mode", "reft",
            "reft.learner.init-checkpoint", init,
            "reft.learner.reft.total-updates", Integer.toString(benchUpdates),
            "reft.learner.reft.eval-every", "0",
            "reft.ppo.max-policy-lag", Integer.toString(lag)));
        System.out.printf("max-policy-lag %d: %d PPO updates, sampler parallelism %d%n", lag, benchUpdates, parallelism);
        monitor.expectUpdates(benchUpdates);
        pipeline.runLearner("learner-lag" + lag, props, monitor);
        Map<String, Double> samplerTimers = timers(sampler.current().metrics());
        pipeline.stop(sampler);
        Map<String, Double> rewardAfter = timers(reward.current().metrics());
        Map<String, Double> services = new LinkedHashMap<>();
        services.put("sampling", samplerTimers.getOrDefault("reft_sampler_batch_seconds", Double.NaN));
        services.put("checkpoint reload (sampler)", samplerTimers.getOrDefault("reft_sampler_checkpoint_load_seconds", Double.NaN));
        services.put("grading", rewardAfter.getOrDefault("reft_reward_execution_seconds", Double.NaN)
            - rewardBefore.getOrDefault("reft_reward_execution_seconds", 0.0));
        results.add(measure(pipeline.client(), runId, services).withLag(lag));
      }
      System.out.println();
      print(results);
      return 0;
    } catch (IllegalStateException e) {
      run.command.commandLine().getErr().println("reft bench pipeline: " + e.getMessage());
      run.command.commandLine().getErr().flush();
      return 1;
    }
  }

  /** The {@code *_seconds_sum} values of a Prometheus text page, summed over labels. */
  static Map<String, Double> timers(String prometheusText) {
    Map<String, Double> out = new HashMap<>();
    Matcher m = SUM.matcher(prometheusText);
    while (m.find()) {
      out.merge(m.group(1), Double.parseDouble(m.group(3)), Double::sum);
    }
    return out;
  }

  /** One run's figures. */
  record Result(String run, int lag, int updates, double seconds, double trajectories, double tokens, double lagMean,
      Map<String, Double> stages) {

    Result withLag(int bound) {
      return new Result(run, bound, updates, seconds, trajectories, tokens, lagMean, stages);
    }
  }

  /**
   * Reads a run's update records and measures updates 2..N: the time from each update to the next and what the
   * next trained on, leaving out the intervals that held a periodic evaluation (a run of another build may have
   * evaluated every few versions; {@code reft.eval} says which).
   */
  private Result measure(Map<String, Object> client, String runId, Map<String, Double> services) {
    Map<Long, LearnerUpdate> byVersion = new HashMap<>();
    for (ConsumerRecord<String, LearnerUpdate> r : TopicReader.readAll(client, Topics.LEARNER_UPDATES.defaultName(),
        Topics.LEARNER_UPDATES.keySerde().deserializer(), Topics.LEARNER_UPDATES.valueSerde().deserializer(),
        Duration.ofSeconds(60))) {
      LearnerUpdate u = r.value();
      if (u != null && runId.equals(u.getRunId()) && u.getPolicyVersion() >= 1 && !"sft".equals(u.getMode())) {
        byVersion.put(u.getPolicyVersion(), u); // the last record of a version
      }
    }
    Set<Long> evaluated = new HashSet<>();
    for (ConsumerRecord<String, EvalResult> r : TopicReader.readAll(client, Topics.EVAL.defaultName(),
        Topics.EVAL.keySerde().deserializer(), Topics.EVAL.valueSerde().deserializer(), Duration.ofSeconds(60))) {
      if (r.value() != null && runId.equals(r.value().getRunId())) {
        evaluated.add(r.value().getPolicyVersion());
      }
    }
    List<LearnerUpdate> updates = new ArrayList<>(byVersion.values());
    updates.sort(Comparator.comparingLong(LearnerUpdate::getPolicyVersion));
    if (updates.size() < 2) {
      throw new IllegalStateException("run " + runId + " has " + updates.size() + " updates on "
          + Topics.LEARNER_UPDATES.defaultName() + "; at least 2 are needed");
    }
    double seconds = 0;
    double trajectories = 0;
    double tokens = 0;
    double lag = 0;
    int measured = 0;
    Map<String, Double> stages = new LinkedHashMap<>(services);
    for (int i = 0; i + 1 < updates.size(); i++) {
      LearnerUpdate before = updates.get(i);
      LearnerUpdate u = updates.get(i + 1);
      if (evaluated.contains(before.getPolicyVersion())) {
        continue; // this interval held an evaluation
      }
      measured++;
      seconds += Duration.between(before.getCreatedAt(), u.getCreatedAt()).toMillis() / 1e3;
      Map<String, Double> m = u.getMetrics();
      double n = m.getOrDefault(Metric.TRAJECTORIES.key(), (double) trajectoriesPerUpdate);
      trajectories += n;
      tokens += n * m.getOrDefault(Metric.RESPONSE_LENGTH.key(), 0.0);
      lag += m.getOrDefault(Metric.POLICY_LAG_MEAN.key(), 0.0);
      for (Metric stage : List.of(Metric.SCORE_SECONDS, Metric.PPO_SECONDS, Metric.CHECKPOINT_SECONDS,
          Metric.EVAL_SECONDS, Metric.WAIT_SECONDS)) {
        if (m.containsKey(stage.key())) {
          stages.merge(stageName(stage), m.get(stage.key()), Double::sum);
        }
      }
      if (!m.containsKey(Metric.SCORE_SECONDS.key()) && m.containsKey(Metric.UPDATE_SECONDS.key())) {
        stages.merge("learner update (scoring + PPO)", m.get(Metric.UPDATE_SECONDS.key()), Double::sum);
      }
    }
    return new Result(runId, -1, measured, seconds, trajectories, tokens, measured == 0 ? 0 : lag / measured, stages);
  }

  private static String stageName(Metric stage) {
    return switch (stage) {
      case SCORE_SECONDS -> "learner scoring (π_old, values, π_ref)";
      case PPO_SECONDS -> "learner PPO forward + backward";
      case CHECKPOINT_SECONDS -> "checkpoint write";
      case EVAL_SECONDS -> "evaluation";
      case WAIT_SECONDS -> "learner waiting on Kafka";
      default -> stage.key();
    };
  }

  private static void print(List<Result> results) {
    System.out.printf(Locale.ROOT, "%-31s %8s %8s %10s %12s %12s %9s%n", "run", "lag≤", "updates", "seconds",
        "traject./s", "tokens/s", "lag mean");
    for (Result r : results) {
      System.out.printf(Locale.ROOT, "%-31s %8s %8d %10.1f %12.1f %12.0f %9.2f%n", r.run(), r.lag() < 0 ? "-" : r.lag(),
          r.updates(), r.seconds(), r.trajectories() / r.seconds(), r.tokens() / r.seconds(), r.lagMean());
    }
    for (Result r : results) {
      System.out.printf(Locale.ROOT, "%nstages of %s (seconds over %.1f s of wall time, share):%n", r.run(), r.seconds());
      r.stages().forEach((stage, s) -> {
        if (!Double.isNaN(s)) {
          System.out.printf(Locale.ROOT, "  %-40s %8.1f  %5.1f %%%n", stage, s, 100 * s / r.seconds());
        }
      });
    }
  }
}
