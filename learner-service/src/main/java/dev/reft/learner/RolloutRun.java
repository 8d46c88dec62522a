package dev.reft.learner;

import dev.reft.learner.eval.Evaluator;
import dev.reft.learner.loop.RolloutLoop;
import dev.reft.learner.metrics.Metric;
import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.learner.store.CheckpointStore;
import dev.reft.learner.store.LearnerState;
import dev.reft.learner.train.OnlineStTrainer;
import dev.reft.learner.train.PpoTrainer;
import dev.reft.learner.train.RolloutTrainer;
import dev.reft.learner.train.SftTrainer;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.train.AdamW;
import dev.reft.tasks.Problem;
import io.quarkus.logging.Log;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Modes {@code reft} and {@code online-st}: the rollout loop from the run's newest checkpoint, training each batch
 * with PPO ({@link PpoTrainer}) or with SFT on its correct samples ({@link OnlineStTrainer}); checkpoints,
 * publishes and evaluates as configured.
 */
final class RolloutRun {

  private RolloutRun() {}

  static void run(RunContext ctx, String mode, BooleanSupplier running) throws IOException {
    LearnerSettings settings = ctx.settings;
    if (ctx.store.newest().isEmpty() && ctx.initCheckpoint().isPresent()) {
      ctx.adoptAsVersionZero(ctx.initCheckpoint().get());
    }
    Checkpoint start = ctx.store.newest().orElseThrow(() -> new IllegalStateException("run " + settings.runId()
        + " has no checkpoint in " + ctx.store.runDir() + ": run the learner with reft.learner.mode=sft first, "
        + "or start from another run's checkpoint with reft.learner.init-checkpoint"));
    Checkpoint warmup = ctx.store.open(0).orElseThrow(() -> new IllegalStateException("run " + settings.runId()
        + " has no version 0 (the warm-up policy, the KL reference) in " + ctx.store.runDir()));
    long startVersion = Long.parseLong(start.metadata().getOrDefault("version", "0"));
    boolean online = "online-st".equals(mode);
    ReftHyperparameters hp = ReftHyperparameters.from(ctx.style, ctx.config);
    if (!online) {
      hp.requireReproducibleSampling();
    }
    Log.infof("%s hyperparameters: %s", mode, hp);
    LearnerState state = start.files().contains(CheckpointStore.STATE)
        ? LearnerState.fromJson(start.read(CheckpointStore.STATE)) : null;
    List<Problem> problems = ctx.data.rlTrain();
    int totalUpdates = settings.reft().totalUpdates() > 0 ? settings.reft().totalUpdates()
        : Math.max(1, problems.size() / hp.questionsPerBatch());
    double learningRate = online ? settings.reft().stLearningRate() : hp.learningRate();
    try (PolicyTokenizer tokenizer = start.tokenizer();
        PolicyModel policy = start.loadModel();
        PolicyModel reference = warmup.loadModel();
        AdamW optimizer = AdamW.builder().setModel(policy).setLearningRate(learningRate)
            .optWeightDecay(hp.weightDecay()).build()) {
      reference.freeze();
      boolean resuming = state != null && mode.equals(state.mode());
      if (resuming && start.files().contains(CheckpointStore.OPTIMIZER)) {
        optimizer.loadState(start.read(CheckpointStore.OPTIMIZER));
      }
      RolloutLoop loop = new RolloutLoop(ctx.kafka, settings.runId(), mode, ctx.style, problems, hp,
          settings.reft().requestTimeout(), settings.seed(), ctx.publish.metrics()).vocabSize(tokenizer.vocabSize());
      loop.restore(state, startVersion);
      // Samplers serve the version we start from (again, if it was published before a crash).
      ctx.publish.checkpoint(start, startVersion, loop.state().rewardedOffsets(), Map.of());

      RolloutTrainer trainer = online
          ? new OnlineStTrainer(new SftTrainer(policy, optimizer,
              new SftTrainer.Schedule(learningRate, 1, Long.MAX_VALUE / 4), hp.maxGradNorm(), tokenizer.pad()),
              hp.sequencesPerStep(hp.trajectoriesPerBatch()))
          : new PpoTrainer(policy, reference, optimizer, hp, tokenizer.pad());
      Evaluator evaluator = ctx.evaluator(tokenizer);
      // Everything about a version — its update record, its evaluation, the checkpoint, the dead letters and the
      // offsets consumed — is published in one transaction, so that a learner killed in between redoes the version on
      // resume instead of leaving a gap or a duplicate. The evaluation therefore runs before the checkpoint is
      // published (in lockstep the samplers wait for it: every eval-every versions).
      RolloutLoop.AfterUpdate after = (version, stats, loopState) -> {
        stats.put(Metric.VERSION, (double) version);
        boolean last = version >= totalUpdates;
        long t0 = System.nanoTime();
        int every = settings.reft().evalEvery();
        if (every > 0 && version % every == 0 && !last) {
          int votingEvery = settings.eval().votingEvery();
          int k = votingEvery > 0 && version % votingEvery == 0 ? settings.eval().votingK() : 0;
          Evaluator.Result r = evaluator.evaluate(policy, ctx.data.test(), ctx.style, k, settings.seed(), done -> { });
          ctx.publish.evaluationWithNextCheckpoint(r, version, loopState.step(), mode, ctx.data.testName());
          Log.infof("eval v%d: greedy accuracy %.3f on %d held-out problems", version, r.greedyAccuracy(), r.problems());
        }
        long t1 = System.nanoTime();
        Checkpoint written = null;
        if (version % settings.reft().publishEvery() == 0 || last) {
          try {
            written = ctx.store.write(version, policy, tokenizer, optimizer, loopState);
          } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + version, e);
          }
        }
        stats.put(Metric.EVAL_SECONDS, (t1 - t0) / 1e9);
        stats.put(Metric.CHECKPOINT_SECONDS, (System.nanoTime() - t1) / 1e9);
        ctx.publish.updateWithNextCheckpoint(mode, version, loopState.step(), stats, loopState.counters());
        if (written != null) {
          ctx.publish.checkpoint(written, version, loopState.rewardedOffsets(), stats);
          loop.published(version);
        }
        Log.infof("%s v%d: %s", mode, version, line(stats));
      };
      loop.run(totalUpdates, trainer, after, running);
      if (loop.version() >= totalUpdates && running.getAsBoolean() && settings.reft().finalEval()) {
        ctx.finalEvaluation(evaluator, policy, loop.version(), loop.step(), mode);
      }
    }
  }

  /**
   * The update's log line: reward and accuracy, then what the trainer reports of loss, KL, entropy, approx KL,
   * clipping, lag and speed (Online-ST has no KL, entropy or clipping; a metric it lacks is left out, not NaN).
   */
  static String line(Map<Metric, Double> s) {
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "reward %.3f, accuracy %.3f",
        get(s, Metric.REWARD_MEAN), get(s, Metric.ACCURACY)));
    optional(line, s, Metric.SFT_LOSS, ", sft_loss %.4f");
    optional(line, s, Metric.KL_TO_REF, ", kl_to_ref %.3f");
    optional(line, s, Metric.ENTROPY, ", entropy %.3f");
    optional(line, s, Metric.APPROX_KL, ", approx_kl %.4f");
    optional(line, s, Metric.CLIP_FRACTION, ", clip %.3f");
    if (s.containsKey(Metric.POLICY_LAG_MEAN)) {
      line.append(String.format(Locale.ROOT, ", lag %.2f/%.0f", get(s, Metric.POLICY_LAG_MEAN), get(s, Metric.POLICY_LAG_MAX)));
    }
    optional(line, s, Metric.TOKENS_PER_SECOND, ", %.0f tokens/s");
    optional(line, s, Metric.UPDATE_SECONDS, ", %.1f s");
    return line.toString();
  }

  private static void optional(StringBuilder line, Map<Metric, Double> stats, Metric metric, String format) {
    if (stats.containsKey(metric)) {
      line.append(String.format(Locale.ROOT, format, stats.get(metric)));
    }
  }

  private static double get(Map<Metric, Double> stats, Metric metric) {
    return stats.getOrDefault(metric, Double.NaN);
  }
}
