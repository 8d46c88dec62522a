package dev.reft.learner;

import dev.reft.learner.loop.RewardedReplay;
import dev.reft.learner.loop.RolloutLoop;
import dev.reft.learner.metrics.Metric;
import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.learner.store.CheckpointStore;
import dev.reft.learner.store.LearnerState;
import dev.reft.learner.train.OfflineStTrainer;
import dev.reft.learner.train.SftTrainer;
import dev.reft.learner.train.SupervisedRun;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.train.AdamW;
import io.quarkus.logging.Log;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Mode {@code offline-st}: optionally samples from the starting policy first ({@code sample-questions}), then
 * replays the rewarded trajectories of the source run, keeps the correct chains of thought, and fine-tunes the
 * starting policy on them together with the original data ({@link OfflineStTrainer}). Version 0 of the run is
 * the starting policy, version 1 the result.
 */
final class OfflineStRun {

  private OfflineStRun() {}

  static void run(RunContext ctx, BooleanSupplier running) throws IOException {
    LearnerSettings settings = ctx.settings;
    LearnerSettings.OfflineSt o = settings.offlineSt();
    String sourceRun = o.sourceRun().orElse(settings.runId());
    if (ctx.store.open(1).isPresent()) {
      throw new IllegalStateException("run " + settings.runId() + " already has a version 1 in " + ctx.store.runDir()
          + "; Offline-ST writes its result as version 1 of a run of its own: choose a new reft.learner.run-id");
    }
    Checkpoint start = ctx.store.open(0).orElse(null);
    if (start == null) {
      Checkpoint init = ctx.initCheckpoint().isPresent() ? ctx.initCheckpoint().get()
          : new CheckpointStore(Path.of(settings.checkpointDir()), sourceRun, Integer.MAX_VALUE).open(0)
              .orElseThrow(() -> new IllegalStateException("run " + sourceRun + " has no version 0 to start from; "
                  + "set reft.learner.init-checkpoint"));
      start = ctx.adoptAsVersionZero(init);
    }
    if (o.sampleQuestions() > 0) {
      ReftHyperparameters hp = ReftHyperparameters.from(ctx.style, ctx.config);
      ctx.publish.checkpoint(start, 0, Map.of(), Map.of()); // the samplers of this run load the starting policy
      RolloutLoop sampling = new RolloutLoop(ctx.kafka, settings.runId(), "offline-st", ctx.style, ctx.data.rlTrain(),
          hp, settings.reft().requestTimeout(), settings.seed(), ctx.publish.metrics());
      sampling.restore(null, 0);
      Log.infof("offline-st of run %s: sampling %d × %d chains of thought from %s", settings.runId(),
          o.sampleQuestions(), hp.samplesPerQuestion(), start.directory());
      sampling.collect(o.sampleQuestions(), running);
      if (!running.getAsBoolean()) {
        return;
      }
    }
    List<SftTrainer.Example> samples = new RewardedReplay(ctx.kafka, ctx.config)
        .correct(sourceRun, o.fromTime().map(Instant::parse), o.toTime().map(Instant::parse));
    try (PolicyTokenizer tokenizer = start.tokenizer(); PolicyModel model = start.loadModel();
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(o.learningRate()).build()) {
      List<SftTrainer.Example> original = TrainingData.examples(ctx.data.sftTrain(), ctx.style, tokenizer);
      SupervisedRun epochs = OfflineStTrainer.epochs(model, optimizer, original, samples, o.epochs(),
          settings.sft().batchSize(), o.learningRate(), tokenizer.pad());
      Log.infof("offline-st of run %s: %d original examples + %d correct replayed samples of run %s, %d epochs",
          settings.runId(), original.size(), samples.size(), sourceRun, o.epochs());
      epochs.train(model, o.epochs(), Rng.stream(settings.seed(), 5), (epoch, step, steps, last, meanLoss, speed) -> { },
          null, false, e -> {
            Map<Metric, Double> m = Metric.newMap();
            m.put(Metric.LOSS, e.meanLoss());
            m.put(Metric.EPOCH, (double) e.epoch());
            m.put(Metric.EPOCHS, (double) o.epochs());
            m.put(Metric.REPLAYED_CORRECT, (double) samples.size());
            ctx.publish.update("offline-st", 1, optimizer.stepCount(), m, Map.of());
            Log.infof("offline-st epoch %d/%d: loss %.4f", e.epoch(), o.epochs(), e.meanLoss());
          }, running);
      if (!running.getAsBoolean()) {
        return;
      }
      Checkpoint c = ctx.store.write(1, model, tokenizer, null, LearnerState.outsideTheLoop(settings.runId(),
          "offline-st", 1, optimizer.stepCount(), Map.of("replayed_correct", (long) samples.size())));
      Map<Metric, Double> published = Metric.newMap();
      published.put(Metric.REPLAYED_CORRECT, (double) samples.size());
      ctx.publish.checkpoint(c, 1, Map.of(), published);
      ctx.finalEvaluation(ctx.evaluator(tokenizer), model, 1, optimizer.stepCount(), "offline-st");
    }
  }
}
