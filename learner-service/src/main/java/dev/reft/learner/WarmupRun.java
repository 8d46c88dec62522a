package dev.reft.learner;

import dev.reft.learner.eval.Evaluator;
import dev.reft.learner.metrics.Metric;
import dev.reft.learner.store.LearnerState;
import dev.reft.learner.train.SftTrainer;
import dev.reft.learner.train.SupervisedRun;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.hf.HfImport;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import dev.reft.policy.train.AdamW;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Problem;
import io.quarkus.logging.Log;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Mode {@code sft}: warm-up supervised fine-tuning of a fresh model — or of the pretrained model of {@code
 * init-model=hf:DIR} — on the annotated problems, published as version 0 (the starting policy and the KL reference). With {@code keep-best} it is the best-SFT baseline.
 */
final class WarmupRun {

  private WarmupRun() {}

  static void run(RunContext ctx, BooleanSupplier running) throws IOException {
    LearnerSettings settings = ctx.settings;
    if (ctx.store.open(0).isPresent()) {
      Log.infof("run %s already has its warm-up checkpoint %s; nothing to do", settings.runId(), ctx.store.directory(0));
      ctx.publish.checkpoint(ctx.store.open(0).get(), 0, Map.of(), Map.of());
      return;
    }
    List<Problem> problems = ctx.data.sftTrain();
    Start start = startingPoint(settings, problems, ctx.style, note -> Log.info(note));
    PolicyTokenizer tokenizer = start.tokenizer();
    List<SftTrainer.Example> examples = TrainingData.examples(problems, ctx.style, tokenizer);
    if (examples.isEmpty()) {
      start.model().close();
      throw new IllegalStateException("no annotated chains of thought in " + settings.trainData() + " to warm up on");
    }
    LearnerSettings.Sft sft = settings.sft();
    int scheduleEpochs = sft.scheduleEpochs().orElse(sft.epochs());
    List<Problem> heldOut = sft.evalProblems() > 0
        ? ctx.data.test().subList(0, Math.min(sft.evalProblems(), ctx.data.test().size())) : List.of();
    try (PolicyModel model = start.model();
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(sft.learningRate()).build()) {
      int stepsPerEpoch = (examples.size() + sft.batchSize() - 1) / sft.batchSize();
      long totalSteps = (long) stepsPerEpoch * scheduleEpochs;
      SftTrainer trainer = new SftTrainer(model, optimizer, new SftTrainer.Schedule(sft.learningRate(),
          Math.max(1, Math.round(sft.warmupRatio() * totalSteps)), totalSteps), 1.0, tokenizer.pad());
      SupervisedRun epochs = new SupervisedRun(trainer, examples, sft.batchSize());
      Log.infof("warm-up SFT of run %s: %d examples, %s, %,d parameters, %d epochs (schedule %d epochs, %d steps), "
              + "batch %d, lr %.2e", settings.runId(), examples.size(), start.description(), model.parameterCount(),
          sft.epochs(), scheduleEpochs, totalSteps, sft.batchSize(), sft.learningRate());
      Evaluator evaluator = ctx.evaluator(tokenizer);
      SupervisedRun.StepListener progress = (epoch, step, steps, last, meanLoss, tokensPerSecond) -> {
        if (step % 10 == 0 || step == steps) {
          Map<Metric, Double> m = Metric.newMap();
          m.put(Metric.LOSS, last.loss());
          m.put(Metric.EPOCH_MEAN_LOSS, meanLoss);
          m.put(Metric.LEARNING_RATE, last.learningRate());
          m.put(Metric.GRAD_NORM, last.gradNorm());
          m.put(Metric.EPOCH, (double) epoch);
          m.put(Metric.EPOCHS, (double) sft.epochs());
          m.put(Metric.EPOCH_PROGRESS, step / (double) steps);
          m.put(Metric.TOKENS_PER_SECOND, tokensPerSecond);
          ctx.publish.update("sft", 0, optimizer.stepCount(), m, Map.of());
        }
      };
      SupervisedRun.EpochScore score = heldOut.isEmpty() ? null : (policy, epoch) -> {
        Evaluator.Result r = evaluator.evaluate(policy, heldOut, ctx.style, 0, 0, done -> { });
        ctx.publish.evaluation(r, 0, optimizer.stepCount(), "sft", ctx.data.testName());
        return r.greedyAccuracy();
      };
      PolicyModel chosen = epochs.train(model, sft.epochs(), Rng.stream(settings.seed(), 3), progress, score,
          sft.keepBest(), e -> Log.info(String.format(Locale.ROOT, "sft epoch %d/%d: loss %.4f, %.0f tokens/s%s",
              e.epoch(), sft.epochs(), e.meanLoss(), e.tokensPerSecond(), Double.isNaN(e.score()) ? ""
                  : String.format(Locale.ROOT, ", held-out accuracy %.3f (%d problems)", e.score(), heldOut.size()))),
          running);
      try {
        Checkpoint ckpt = ctx.store.write(0, chosen, tokenizer, null,
            LearnerState.outsideTheLoop(settings.runId(), "sft", 0, optimizer.stepCount(), Map.of()));
        Log.infof("warm-up done: version 0 at %s (identity %s)", ckpt.directory(), ckpt.identity());
        Map<Metric, Double> published = Metric.newMap();
        published.put(Metric.SFT_STEPS, (double) optimizer.stepCount());
        ctx.publish.checkpoint(ckpt, 0, Map.of(), published);
        if (sft.finalEval() && running.getAsBoolean()) {
          ctx.finalEvaluation(evaluator, chosen, 0, optimizer.stepCount(), "sft");
        }
      } finally {
        if (chosen != model) {
          chosen.close();
        }
      }
    }
  }

  /**
   * What the warm-up starts from: the pretrained model and its tokenizer of {@code init-model=hf:DIR}, or else a
   * tokenizer built from the training texts and a fresh model of the configured preset.
   *
   * @param tokenizer encodes the training data and is written with the checkpoint
   * @param model the model to fine-tune (the caller closes it)
   * @param description for the log: the preset, or the imported architecture and directory
   */
  record Start(PolicyTokenizer tokenizer, PolicyModel model, String description) {}

  static Start startingPoint(LearnerSettings settings, List<Problem> problems, CotStyle style, Consumer<String> notes)
      throws IOException {
    if (settings.initModel().isPresent()) {
      String spec = settings.initModel().get();
      if (!spec.startsWith("hf:") || spec.length() == 3) {
        throw new IllegalArgumentException("reft.learner.init-model must be hf:DIR (a Hugging Face model directory), not '" + spec + "'");
      }
      Path dir = Path.of(spec.substring(3));
      HfImport.Imported imported = HfImport.load(dir, HfImport.Options.defaults().withSeed(settings.model().seed()),
          note -> notes.accept("init-model: " + note));
      return new Start(imported.tokenizer(), imported.model(),
          imported.model().config().architecture().hfClass() + " from " + dir.toAbsolutePath().normalize());
    }
    PolicyTokenizer tokenizer = TokenizerBuilder.builder().build(TrainingData.corpus(problems, style));
    ModelConfig modelConfig = ModelConfig.preset(settings.model().preset(), tokenizer.vocabSize());
    return new Start(tokenizer, PolicyModel.create(modelConfig, settings.model().seed()), settings.model().preset());
  }
}
