package dev.reft.learner;

import dev.reft.learner.eval.Evaluator;
import dev.reft.learner.loop.KafkaIo;
import dev.reft.learner.loop.RolloutLoop;
import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.learner.store.CheckpointStore;
import dev.reft.learner.store.LearnerState;
import dev.reft.learner.train.PpoTrainer;
import dev.reft.learner.train.Rollout;
import dev.reft.learner.train.SftTrainer;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import dev.reft.policy.train.AdamW;
import dev.reft.schemas.CheckpointPublished;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.EvalResult;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import io.quarkus.logging.Log;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** The learner's modes: warm-up SFT, the rollout loop (ReFT or Online-ST) and Offline-ST. */
final class Runs implements AutoCloseable {

  private final LearnerSettings settings;
  private final CotStyle style;
  private final KafkaIo kafka;
  private final CheckpointStore store;
  private final LearnerMetrics metrics;
  private final TrainingData data;
  private final java.util.function.Function<String, java.util.Optional<String>> config;
  private PythonSandbox sandbox;

  Runs(LearnerSettings settings, CotStyle style, KafkaIo kafka, LearnerMetrics metrics,
      java.util.function.Function<String, java.util.Optional<String>> config) {
    this.settings = settings;
    this.style = style;
    this.kafka = kafka;
    this.metrics = metrics;
    this.config = config;
    this.store = new CheckpointStore(java.nio.file.Path.of(settings.checkpointDir()), settings.runId(), settings.keepLast());
    this.data = new TrainingData(settings, style);
  }

  // ---------------------------------------------------------------------------------------------- sft

  /** Warm-up SFT: trains a fresh model on the annotated problems and publishes it as version 0. */
  void sft(BooleanSupplier running) throws IOException {
    if (store.open(0).isPresent()) {
      Log.infof("run %s already has its warm-up checkpoint %s; nothing to do", settings.runId(), store.directory(0));
      publish(store.open(0).get(), 0, Map.of(), Map.of());
      return;
    }
    List<Problem> problems = data.train();
    PolicyTokenizer tokenizer = TokenizerBuilder.builder().build(TrainingData.corpus(problems, style));
    ModelConfig modelConfig = ModelConfig.preset(settings.model().preset(), tokenizer.vocabSize());
    List<SftTrainer.Example> examples = TrainingData.examples(problems, style, tokenizer);
    if (examples.isEmpty()) {
      throw new IllegalStateException("no annotated chains of thought in " + settings.trainData() + " to warm up on");
    }
    LearnerSettings.Sft sft = settings.sft();
    int stepsPerEpoch = (examples.size() + sft.batchSize() - 1) / sft.batchSize();
    long totalSteps = (long) stepsPerEpoch * sft.scheduleEpochs().orElse(sft.epochs());
    SftTrainer.Schedule schedule = new SftTrainer.Schedule(sft.learningRate(),
        Math.max(1, Math.round(sft.warmupRatio() * totalSteps)), totalSteps);
    List<Problem> heldOut = sft.evalProblems() > 0 ? data.test().subList(0, Math.min(sft.evalProblems(), data.test().size())) : List.of();
    try (PolicyModel model = PolicyModel.create(modelConfig, settings.model().seed());
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(sft.learningRate()).build()) {
      Log.infof("warm-up SFT of run %s: %d examples, %s, %,d parameters, %d epochs (schedule %d epochs, %d steps), "
              + "batch %d, lr %.2e", settings.runId(), examples.size(), settings.model().preset(), model.parameterCount(),
          sft.epochs(), sft.scheduleEpochs().orElse(sft.epochs()), totalSteps, sft.batchSize(), sft.learningRate());
      SftTrainer trainer = new SftTrainer(model, optimizer, schedule, 1.0, tokenizer.pad());
      Rng rng = Rng.stream(settings.seed(), 3);
      double bestAccuracy = -1;
      PolicyModel best = null;
      Evaluator evaluator = evaluator(tokenizer);
      for (int epoch = 1; epoch <= sft.epochs() && running.getAsBoolean(); epoch++) {
        long t0 = System.nanoTime();
        double lossSum = 0;
        long tokens = 0;
        List<SftTrainer.Example> shuffled = shuffle(examples, rng);
        for (int s = 0; s < stepsPerEpoch && running.getAsBoolean(); s++) {
          SftTrainer.StepStats st = trainer.step(shuffled.subList(s * sft.batchSize(),
              Math.min(shuffled.size(), (s + 1) * sft.batchSize())));
          lossSum += st.loss();
          tokens += st.tokens();
          if ((s + 1) % 10 == 0 || s + 1 == stepsPerEpoch) {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("loss", st.loss());
            m.put("epoch_mean_loss", lossSum / (s + 1));
            m.put("learning_rate", st.learningRate());
            m.put("grad_norm", st.gradNorm());
            m.put("epoch", (double) epoch);
            m.put("epochs", (double) sft.epochs());
            m.put("epoch_progress", (s + 1) / (double) stepsPerEpoch);
            m.put("tokens_per_second", tokens / ((System.nanoTime() - t0) / 1e9));
            metrics.setAll(m);
            sendUpdate("sft", 0, optimizer.stepCount(), m);
          }
        }
        String line = String.format(Locale.ROOT, "sft epoch %d/%d: loss %.4f, %.0f tokens/s", epoch, sft.epochs(),
            lossSum / stepsPerEpoch, tokens / ((System.nanoTime() - t0) / 1e9));
        if (!heldOut.isEmpty()) {
          Evaluator.Result r = evaluator.evaluate(model, heldOut, style, 0, 0, done -> { });
          sendEval(r, 0, optimizer.stepCount(), "sft", data.testName());
          line += String.format(Locale.ROOT, ", held-out accuracy %.3f (%d problems)", r.greedyAccuracy(), r.problems());
          if (sft.keepBest() && r.greedyAccuracy() > bestAccuracy) {
            bestAccuracy = r.greedyAccuracy();
            if (best != null) {
              best.close();
            }
            best = model.copy();
          }
        }
        Log.info(line);
      }
      PolicyModel chosen = sft.keepBest() && best != null ? best : model;
      LearnerState state = new LearnerState(settings.runId(), "sft", 0, optimizer.stepCount(), 0, 0, 0, "", 0,
          Map.of(), Map.of(), List.of(), Map.of());
      Checkpoint ckpt = store.write(0, chosen, tokenizer, null, state);
      Log.infof("warm-up done: version 0 at %s (identity %s)", ckpt.directory(), ckpt.identity());
      publish(ckpt, 0, Map.of(), Map.of("sft_steps", (double) optimizer.stepCount()));
      if (sft.finalEval() && running.getAsBoolean()) {
        finalEvaluation(evaluator, chosen, 0, optimizer.stepCount(), "sft");
      }
      if (best != null) {
        best.close();
      }
    }
  }

  // ------------------------------------------------------------------------------ reft and online-st

  /** The rollout loop from the run's newest checkpoint: PPO (reft) or SFT on correct samples (online-st). */
  void rollouts(String mode, BooleanSupplier running) throws IOException {
    if (store.newest().isEmpty() && settings.initCheckpoint().isPresent()) {
      adoptAsVersionZero(openCheckpoint(settings.initCheckpoint().get()));
    }
    Checkpoint start = store.newest().orElseThrow(() -> new IllegalStateException("run " + settings.runId()
        + " has no checkpoint in " + store.runDir() + ": run the learner with reft.learner.mode=sft first, "
        + "or start from another run's checkpoint with reft.learner.init-checkpoint"));
    Checkpoint warmup = store.open(0).orElseThrow(() -> new IllegalStateException("run " + settings.runId()
        + " has no version 0 (the warm-up policy, the KL reference) in " + store.runDir()));
    long startVersion = Long.parseLong(start.metadata().getOrDefault("version", "0"));
    ReftHyperparameters hp = ReftHyperparameters.from(style, config);
    Log.infof("%s hyperparameters: %s", mode, hp);
    LearnerState state = start.files().contains(CheckpointStore.STATE)
        ? LearnerState.fromJson(start.read(CheckpointStore.STATE)) : null;
    List<Problem> problems = data.train();
    int totalUpdates = settings.reft().totalUpdates() > 0 ? settings.reft().totalUpdates()
        : Math.max(1, problems.size() / hp.questionsPerBatch());
    try (PolicyTokenizer tokenizer = start.tokenizer();
        PolicyModel policy = start.loadModel();
        PolicyModel reference = warmup.loadModel();
        AdamW optimizer = AdamW.builder().setModel(policy)
            .setLearningRate("online-st".equals(mode) ? settings.reft().stLearningRate() : hp.learningRate())
            .optWeightDecay(hp.weightDecay()).build()) {
      reference.freeze();
      boolean resuming = state != null && mode.equals(state.mode());
      if (resuming && start.files().contains(CheckpointStore.OPTIMIZER)) {
        optimizer.loadState(start.read(CheckpointStore.OPTIMIZER));
      }
      RolloutLoop loop = new RolloutLoop(kafka, settings.runId(), mode, style, problems, hp,
          settings.reft().requestTimeout(), settings.seed(), metrics);
      loop.restore(state, startVersion);
      // Samplers serve the version we start from (again, if it was published before a crash).
      publish(start, startVersion, loop.state().rewardedOffsets(), Map.of());

      PpoTrainer ppo = new PpoTrainer(policy, reference, optimizer, hp, tokenizer.pad());
      SftTrainer st = new SftTrainer(policy, optimizer,
          new SftTrainer.Schedule(settings.reft().stLearningRate(), 1, Long.MAX_VALUE / 4), hp.maxGradNorm(), tokenizer.pad());
      RolloutLoop.Updater updater = "online-st".equals(mode) ? (batch, rng) -> onlineSt(st, batch, hp) : ppo::update;
      Evaluator evaluator = evaluator(tokenizer);
      long[] lastPublished = {startVersion};
      RolloutLoop.AfterUpdate after = (version, stats, loopState) -> {
        stats.put("version", (double) version);
        metrics.setAll(stats);
        sendUpdate(mode, version, loopState.step(), stats);
        Log.infof("%s v%d: reward %.3f, accuracy %.3f, kl_to_ref %.3f, entropy %.3f, approx_kl %.4f, clip %.3f, "
                + "lag %.2f/%.0f, %.0f tokens/s, %.1f s", mode, version, stats.get("reward_mean"), stats.get("accuracy"),
            stats.getOrDefault("kl_to_ref", Double.NaN), stats.getOrDefault("entropy", Double.NaN),
            stats.getOrDefault("approx_kl", Double.NaN), stats.getOrDefault("clip_fraction", Double.NaN),
            stats.get("policy_lag_mean"), stats.get("policy_lag_max"), stats.getOrDefault("tokens_per_second", Double.NaN),
            stats.get("update_seconds"));
        boolean last = version >= totalUpdates;
        if (version % settings.reft().publishEvery() == 0 || last) {
          try {
            Checkpoint c = store.write(version, policy, tokenizer, optimizer, loopState);
            publish(c, version, loopState.rewardedOffsets(), stats);
            lastPublished[0] = version;
          } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write checkpoint " + version, e);
          }
        }
        int every = settings.reft().evalEvery();
        if (every > 0 && version % every == 0 && !last) {
          int votingEvery = settings.eval().votingEvery();
          int k = votingEvery > 0 && version % votingEvery == 0 ? settings.eval().votingK() : 0;
          Evaluator.Result r = evaluator.evaluate(policy, data.test(), style, k, settings.seed(), done -> { });
          sendEval(r, version, loopState.step(), mode, data.testName());
          Log.infof("eval v%d: greedy accuracy %.3f on %d held-out problems", version, r.greedyAccuracy(), r.problems());
        }
      };
      loop.run(totalUpdates, updater, after, running);
      if (loop.version() >= totalUpdates && running.getAsBoolean()) {
        finalEvaluation(evaluator, policy, loop.version(), loop.step(), mode);
      }
    }
  }

  /** Online-ST's update: SFT steps on the correct samples of the batch. */
  private Map<String, Double> onlineSt(SftTrainer trainer, List<Rollout> batch, ReftHyperparameters hp) {
    List<SftTrainer.Example> correct = new ArrayList<>();
    for (Rollout r : batch) {
      if (r.correct()) {
        correct.add(new SftTrainer.Example(r.prompt(), r.response()));
      }
    }
    double loss = Double.NaN;
    for (int from = 0; from < correct.size(); from += hp.miniBatchSize()) {
      loss = trainer.step(correct.subList(from, Math.min(correct.size(), from + hp.miniBatchSize()))).loss();
    }
    Map<String, Double> stats = new LinkedHashMap<>();
    stats.put("sft_loss", loss);
    stats.put("reward_mean", batch.stream().mapToDouble(Rollout::score).average().orElse(0));
    stats.put("accuracy", correct.size() / (double) batch.size());
    stats.put("trained_samples", (double) correct.size());
    stats.put("response_length", batch.stream().mapToInt(r -> r.response().length).average().orElse(0));
    return stats;
  }

  // ------------------------------------------------------------------------------------ offline-st

  /**
   * Offline-ST: optionally samples from the starting policy first ({@code sample-questions}), then replays
   * the rewarded trajectories of the source run, keeps the correct chains of thought, and fine-tunes the
   * starting policy on them together with the original data. Version 0 of the run is the starting policy,
   * version 1 the result.
   */
  void offlineSt(BooleanSupplier running) throws IOException {
    LearnerSettings.OfflineSt o = settings.offlineSt();
    String sourceRun = o.sourceRun().orElse(settings.runId());
    if (store.open(1).isPresent()) {
      throw new IllegalStateException("run " + settings.runId() + " already has a version 1 in " + store.runDir()
          + "; Offline-ST writes its result as version 1 of a run of its own: choose a new reft.learner.run-id");
    }
    Checkpoint start = store.open(0).orElse(null);
    if (start == null) {
      Checkpoint init = settings.initCheckpoint().isPresent() ? openCheckpoint(settings.initCheckpoint().get())
          : new CheckpointStore(java.nio.file.Path.of(settings.checkpointDir()), sourceRun, Integer.MAX_VALUE).open(0)
              .orElseThrow(() -> new IllegalStateException("run " + sourceRun + " has no version 0 to start from; "
                  + "set reft.learner.init-checkpoint"));
      start = adoptAsVersionZero(init);
    }
    if (o.sampleQuestions() > 0) {
      ReftHyperparameters hp = ReftHyperparameters.from(style, config);
      publish(start, 0, Map.of(), Map.of()); // the samplers of this run load the starting policy
      RolloutLoop sampling = new RolloutLoop(kafka, settings.runId(), "offline-st", style, data.train(), hp,
          settings.reft().requestTimeout(), settings.seed(), metrics);
      sampling.restore(null, 0);
      Log.infof("offline-st of run %s: sampling %d × %d chains of thought from %s", settings.runId(),
          o.sampleQuestions(), hp.samplesPerQuestion(), start.directory());
      sampling.collect(o.sampleQuestions(), running);
      if (!running.getAsBoolean()) {
        return;
      }
    }
    List<SftTrainer.Example> samples = replayCorrect(sourceRun, o);
    try (PolicyTokenizer tokenizer = start.tokenizer(); PolicyModel model = start.loadModel();
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(o.learningRate()).build()) {
      List<SftTrainer.Example> examples = new ArrayList<>(TrainingData.examples(data.train(), style, tokenizer));
      int original = examples.size();
      examples.addAll(samples);
      int batch = settings.sft().batchSize();
      int stepsPerEpoch = (examples.size() + batch - 1) / batch;
      long total = (long) stepsPerEpoch * o.epochs();
      SftTrainer trainer = new SftTrainer(model, optimizer,
          new SftTrainer.Schedule(o.learningRate(), Math.max(1, total / 30), total), 1.0, tokenizer.pad());
      Log.infof("offline-st of run %s: %d original examples + %d correct replayed samples of run %s, %d epochs",
          settings.runId(), original, samples.size(), sourceRun, o.epochs());
      Rng rng = Rng.stream(settings.seed(), 5);
      for (int epoch = 1; epoch <= o.epochs() && running.getAsBoolean(); epoch++) {
        List<SftTrainer.Example> shuffled = shuffle(examples, rng);
        double loss = 0;
        for (int s = 0; s < stepsPerEpoch; s++) {
          loss += trainer.step(shuffled.subList(s * batch, Math.min(shuffled.size(), (s + 1) * batch))).loss();
        }
        Map<String, Double> m = Map.of("loss", loss / stepsPerEpoch, "epoch", (double) epoch,
            "epochs", (double) o.epochs(), "replayed_correct", (double) samples.size());
        sendUpdate("offline-st", 1, optimizer.stepCount(), m);
        Log.infof("offline-st epoch %d/%d: loss %.4f", epoch, o.epochs(), loss / stepsPerEpoch);
      }
      if (!running.getAsBoolean()) {
        return;
      }
      LearnerState state = new LearnerState(settings.runId(), "offline-st", 1, optimizer.stepCount(), 0, 0, 0, "", 0,
          Map.of(), Map.of(), List.of(), Map.of("replayed_correct", (long) samples.size()));
      Checkpoint c = store.write(1, model, tokenizer, null, state);
      publish(c, 1, Map.of(), Map.of("replayed_correct", (double) samples.size()));
      finalEvaluation(evaluator(tokenizer), model, 1, optimizer.stepCount(), "offline-st");
    }
  }

  /** Writes another run's checkpoint (verified on open) as version 0 of this run: its start and reference. */
  private Checkpoint adoptAsVersionZero(Checkpoint init) throws IOException {
    try (PolicyTokenizer tokenizer = init.tokenizer(); PolicyModel model = init.loadModel()) {
      LearnerState state = new LearnerState(settings.runId(), "init", 0, 0, 0, 0, 0, "", 0, Map.of(), Map.of(),
          List.of(), Map.of());
      Checkpoint c = store.write(0, model, tokenizer, null, state);
      Log.infof("run %s starts from %s (identity %s), written as its version 0", settings.runId(), init.directory(),
          init.identity());
      return c;
    }
  }

  private static Checkpoint openCheckpoint(String directory) throws IOException {
    return Checkpoint.open(java.nio.file.Path.of(directory));
  }

  /** The CORRECT trajectories of a run in a time range of the rewarded topic (a replay of the log). */
  private List<SftTrainer.Example> replayCorrect(String sourceRun, LearnerSettings.OfflineSt o) {
    var serde = (dev.reft.schemas.AvroSerde<RewardedTrajectory>) Topics.TRAJECTORIES_REWARDED.valueSerde();
    List<SftTrainer.Example> out = new ArrayList<>();
    Map<String, Long> outcomes = new TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> c = replayConsumer()) {
      String topic = Topics.TRAJECTORIES_REWARDED.name(config);
      List<TopicPartition> partitions = c.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      c.assign(partitions);
      Map<TopicPartition, Long> end = new HashMap<>(c.endOffsets(partitions));
      o.toTime().ifPresent(t -> c.offsetsForTimes(at(partitions, Instant.parse(t))).forEach((tp, ot) -> {
        if (ot != null) {
          end.put(tp, ot.offset());
        }
      }));
      if (o.fromTime().isPresent()) {
        c.offsetsForTimes(at(partitions, Instant.parse(o.fromTime().get()))).forEach((tp, ot) ->
            c.seek(tp, ot == null ? end.get(tp) : ot.offset()));
      } else {
        c.seekToBeginning(partitions);
      }
      while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(java.time.Duration.ofMillis(500))) {
          if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
            continue;
          }
          RewardedTrajectory t;
          try {
            t = serde.decode(r.value());
          } catch (RuntimeException e) {
            continue;
          }
          if (t == null || !sourceRun.equals(t.getTrajectory().getRunId())) {
            continue;
          }
          outcomes.merge(t.getOutcome().name(), 1L, Long::sum);
          if (t.getOutcome() == Outcome.CORRECT && !t.getTrajectory().getResponseTokenIds().isEmpty()) {
            Rollout rollout = Rollout.of(t);
            out.add(new SftTrainer.Example(rollout.prompt(), rollout.response()));
          }
        }
      }
    }
    Log.infof("replayed run %s from %s: outcomes %s; training on the %d CORRECT ones", sourceRun,
        Topics.TRAJECTORIES_REWARDED.name(config), outcomes, out.size());
    return out;
  }

  private KafkaConsumer<byte[], byte[]> replayConsumer() {
    return new KafkaConsumer<>(Map.of(
        org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap(),
        org.apache.kafka.clients.consumer.ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        org.apache.kafka.clients.consumer.ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer());
  }

  private String kafkaBootstrap() {
    return config.apply("kafka.bootstrap.servers").orElse("localhost:9092");
  }

  private static Map<TopicPartition, Long> at(List<TopicPartition> partitions, Instant time) {
    Map<TopicPartition, Long> m = new HashMap<>();
    partitions.forEach(tp -> m.put(tp, time.toEpochMilli()));
    return m;
  }

  // ------------------------------------------------------------------------------------- helpers

  /** Final held-out evaluation: greedy and voting@K on the test split, and the harder slice if any. */
  private void finalEvaluation(Evaluator evaluator, PolicyModel model, long version, long step, String mode) {
    Evaluator.Result r = evaluator.evaluate(model, data.test(), style, settings.eval().votingK(), settings.seed(), done -> { });
    sendEval(r, version, step, mode, data.testName());
    Log.infof("final eval v%d: greedy %.3f, voting@%d %s on %d held-out problems %s", version, r.greedyAccuracy(),
        r.votingK(), r.votingAccuracy() == null ? "-" : String.format(Locale.ROOT, "%.3f", r.votingAccuracy()),
        r.problems(), r.accuracyByDifficulty());
    List<Problem> hard = data.hardTest();
    if (!hard.isEmpty()) {
      Evaluator.Result h = evaluator.evaluate(model, hard, style, 0, 0, done -> { });
      sendEval(h, version, step, mode, "synthetic-hard");
      Log.infof("final eval v%d: greedy %.3f on %d harder (4-step) problems", version, h.greedyAccuracy(), h.problems());
    }
  }

  private Evaluator evaluator(PolicyTokenizer tokenizer) {
    Grader grader;
    if (style == CotStyle.PCOT) {
      if (sandbox == null) {
        sandbox = PythonSandbox.start(SandboxConfig.from(config).withWorkers(1));
      }
      grader = new Grader(sandbox);
    } else {
      grader = Grader.textOnly();
    }
    return new Evaluator(tokenizer, grader, settings.eval().batchSize(), settings.eval().maxNewTokens());
  }

  private void publish(Checkpoint c, long version, Map<Integer, Long> offsets, Map<String, Double> metricsAtPublish) {
    Map<String, Double> m = finite(metricsAtPublish);
    kafka.publishCheckpoint(CheckpointPublished.newBuilder()
        .setRunId(settings.runId())
        .setVersion(version)
        .setUri(c.directory().toUri().toString())
        .setSha256(c.identity())
        .setStep(Long.parseLong(c.metadata().getOrDefault("step", "0")))
        .setMode(c.metadata().getOrDefault("mode", settings.mode()))
        .setMetrics(m)
        .setCreatedAt(Instant.now())
        .build(), offsets);
    metrics.set("checkpoint_version", version);
  }

  private void sendUpdate(String mode, long version, long step, Map<String, Double> values) {
    kafka.sendUpdate(LearnerUpdate.newBuilder()
        .setRunId(settings.runId())
        .setMode(mode)
        .setPolicyVersion(version)
        .setStep(step)
        .setMetrics(finite(values))
        .setCreatedAt(Instant.now())
        .build());
  }

  private void sendEval(Evaluator.Result r, long version, long step, String mode, String dataset) {
    Map<String, Long> outcomes = new HashMap<>();
    r.outcomes().forEach((k, v) -> outcomes.put(k.name(), v));
    metrics.set("eval_greedy_accuracy", r.greedyAccuracy());
    if (r.votingAccuracy() != null) {
      metrics.set("eval_voting_accuracy", r.votingAccuracy());
    }
    kafka.sendEval(EvalResult.newBuilder()
        .setRunId(settings.runId())
        .setPolicyVersion(version)
        .setStep(step)
        .setMode(mode)
        .setDataset(dataset)
        .setStyle(style)
        .setProblems(r.problems())
        .setGreedyAccuracy(r.greedyAccuracy())
        .setVotingK(r.votingK())
        .setVotingAccuracy(r.votingAccuracy())
        .setOutcomeCounts(outcomes)
        .setAccuracyByDifficulty(r.accuracyByDifficulty())
        .setMeanResponseLength(r.meanResponseLength())
        .setCreatedAt(Instant.now())
        .build());
  }

  private static <T> List<T> shuffle(List<T> items, Rng rng) {
    List<T> out = new ArrayList<>(items.size());
    for (int i : rng.permutation(items.size())) {
      out.add(items.get(i));
    }
    return out;
  }

  /** The entries with a finite value (Avro maps and Prometheus have no use for NaN). */
  private static Map<String, Double> finite(Map<String, Double> values) {
    Map<String, Double> out = new HashMap<>();
    values.forEach((k, v) -> {
      if (v != null && Double.isFinite(v)) {
        out.put(k, v);
      }
    });
    return out;
  }

  @Override
  public void close() {
    if (sandbox != null) {
      sandbox.close();
    }
  }
}
