package dev.reft.learner;

import dev.reft.learner.eval.Evaluator;
import dev.reft.learner.train.SftTrainer;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Datasets;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import dev.reft.tasks.synthetic.SyntheticConfig;
import dev.reft.tasks.synthetic.SyntheticData;
import dev.reft.tasks.synthetic.SyntheticTask;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The learner's problems: the built-in synthetic task or data files, as configured. */
public final class TrainingData {

  private final LearnerSettings settings;
  private final CotStyle style;
  private SyntheticData synthetic;

  public TrainingData(LearnerSettings settings, CotStyle style) {
    this.settings = settings;
    this.style = style;
  }

  /**
   * The supervised training set: the training problems with their annotated chains of thought (with
   * {@code synthetic.all-paths}, one example per valid path).
   */
  public List<Problem> sftTrain() {
    if ("synthetic".equals(settings.trainData()) && settings.synthetic().allPaths()) {
      return syntheticData().trainAllPaths(style);
    }
    return load(settings.trainData(), Split.TRAIN);
  }

  /**
   * The questions the rollout loop samples: the training problems, without the synthetic task's single-step facts
   * (which are there for the warm-up to practise the steps).
   */
  public List<Problem> rlTrain() {
    return load(settings.trainData(), Split.TRAIN).stream().filter(p -> !SyntheticTask.isFact(p)).toList();
  }

  /** Held-out problems. */
  public List<Problem> test() {
    List<Problem> all = load(settings.testData(), Split.TEST);
    int n = settings.eval().problems();
    return n > 0 && n < all.size() ? all.subList(0, n) : all;
  }

  /** The synthetic task's harder held-out slice (more steps than training), or empty for data files. */
  public List<Problem> hardTest() {
    return "synthetic".equals(settings.testData()) ? syntheticData().hardTest(style) : List.of();
  }

  /** A name for the held-out set, for reports. */
  public String testName() {
    return "synthetic".equals(settings.testData()) ? "synthetic-test" : Path.of(settings.testData()).getFileName().toString();
  }

  private enum Split { TRAIN, TEST }

  private List<Problem> load(String spec, Split split) {
    if ("synthetic".equals(spec)) {
      return split == Split.TRAIN ? syntheticData().train(style) : syntheticData().test(style);
    }
    return Datasets.read(Path.of(spec), style);
  }

  private SyntheticData syntheticData() {
    if (synthetic == null) {
      LearnerSettings.Synthetic s = settings.synthetic();
      synthetic = SyntheticTask.generate(SyntheticConfig.defaults(SyntheticConfig.Task.parse(s.task()), s.seed())
          .withSizes(s.trainSize(), s.testSize(), s.hardSize()));
    }
    return synthetic;
  }

  /** The text a tokenizer for this task is built from: every training prompt and target. */
  public static List<String> corpus(List<Problem> problems, CotStyle style) {
    List<String> corpus = new ArrayList<>(problems.size() * 2);
    for (Problem p : problems) {
      corpus.add(Prompts.prompt(style, p.question()));
      if (p.hasCot()) {
        corpus.add(Prompts.target(p));
      }
    }
    return corpus;
  }

  /** SFT examples: BOS + prompt, and target + EOS, for every annotated problem. */
  public static List<SftTrainer.Example> examples(List<Problem> problems, CotStyle style, PolicyTokenizer tokenizer) {
    List<SftTrainer.Example> out = new ArrayList<>(problems.size());
    for (Problem p : problems) {
      if (!p.hasCot()) {
        continue;
      }
      int[] target = tokenizer.encode(Prompts.target(p));
      int[] withEos = Arrays.copyOf(target, target.length + 1);
      withEos[target.length] = tokenizer.eos();
      out.add(new SftTrainer.Example(Evaluator.promptIds(tokenizer, style, p.question()), withEos));
    }
    return out;
  }
}
