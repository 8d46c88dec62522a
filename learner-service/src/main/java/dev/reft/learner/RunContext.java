package dev.reft.learner;

import dev.reft.learner.eval.Evaluator;
import dev.reft.learner.loop.KafkaIo;
import dev.reft.learner.store.CheckpointStore;
import dev.reft.learner.store.LearnerState;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import io.quarkus.logging.Log;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** What every learner mode needs: its settings, data, checkpoint store, publisher and evaluation. */
final class RunContext implements AutoCloseable {

  final LearnerSettings settings;
  final CotStyle style;
  final KafkaIo kafka;
  final CheckpointStore store;
  final Publisher publish;
  final TrainingData data;
  final Function<String, Optional<String>> config;
  private PythonSandbox sandbox;

  RunContext(LearnerSettings settings, CotStyle style, KafkaIo kafka, LearnerMetrics metrics,
      Function<String, Optional<String>> config) {
    this.settings = settings;
    this.style = style;
    this.kafka = kafka;
    this.config = config;
    this.store = new CheckpointStore(Path.of(settings.checkpointDir()), settings.runId(), settings.keepLast());
    this.publish = new Publisher(settings.runId(), settings.mode(), style, kafka, metrics);
    this.data = new TrainingData(settings, style);
  }

  /** The held-out evaluation of this run's style (P-CoT programs run in a one-worker sandbox). */
  Evaluator evaluator(PolicyTokenizer tokenizer) {
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

  /** Final held-out evaluation: greedy and voting@K on the test split, and the harder slice if any. */
  void finalEvaluation(Evaluator evaluator, PolicyModel model, long version, long step, String mode) {
    Evaluator.Result r = evaluator.evaluate(model, data.test(), style, settings.eval().votingK(), settings.seed(),
        done -> { });
    publish.evaluation(r, version, step, mode, data.testName());
    Log.infof("final eval v%d: greedy %.3f, voting@%d %s on %d held-out problems %s%s", version, r.greedyAccuracy(),
        r.votingK(), r.votingAccuracy() == null ? "-" : String.format(Locale.ROOT, "%.3f", r.votingAccuracy()),
        r.problems(), r.accuracyByDifficulty(), r.paths().cheapestShare() == null ? ""
            : String.format(Locale.ROOT, ", cheapest path taken %.3f (%s)", r.paths().cheapestShare(), r.paths()));
    List<Problem> hard = data.hardTest();
    if (!hard.isEmpty()) {
      Evaluator.Result h = evaluator.evaluate(model, hard, style, 0, 0, done -> { });
      publish.evaluation(h, version, step, mode, "synthetic-hard");
      Log.infof("final eval v%d: greedy %.3f on %d harder problems", version, h.greedyAccuracy(), h.problems());
    }
  }

  /** Writes another run's checkpoint (verified on open) as version 0 of this run: its start and reference. */
  Checkpoint adoptAsVersionZero(Checkpoint init) throws IOException {
    try (PolicyTokenizer tokenizer = init.tokenizer(); PolicyModel model = init.loadModel()) {
      Checkpoint c = store.write(0, model, tokenizer, null,
          LearnerState.outsideTheLoop(settings.runId(), "init", 0, 0, Map.of()));
      Log.infof("run %s starts from %s (identity %s), written as its version 0", settings.runId(), init.directory(),
          init.identity());
      return c;
    }
  }

  /** The configured starting checkpoint ({@code reft.learner.init-checkpoint}), verified. */
  Optional<Checkpoint> initCheckpoint() throws IOException {
    return settings.initCheckpoint().isPresent()
        ? Optional.of(Checkpoint.open(Path.of(settings.initCheckpoint().get())))
        : Optional.empty();
  }

  @Override
  public void close() {
    if (sandbox != null) {
      sandbox.close();
    }
  }
}
