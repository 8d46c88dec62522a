package dev.reft.tasks.synthetic;

import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Problem;
import dev.reft.tasks.SolutionPaths;
import java.util.ArrayList;
import java.util.List;

/**
 * The generated splits: no question appears in more than one of them.
 *
 * @param config what generated them
 * @param train training problems ({@code minSteps..maxSteps} steps)
 * @param test the main held-out split, same step range as training
 * @param hardTest the held-out slice of {@code hardSteps}-step problems, to be reported separately
 */
public record SyntheticData(
    SyntheticConfig config, List<SyntheticProblem> train, List<SyntheticProblem> test, List<SyntheticProblem> hardTest) {

  public SyntheticData {
    train = List.copyOf(train);
    test = List.copyOf(test);
    hardTest = List.copyOf(hardTest);
  }

  /** The training split in one style. */
  public List<Problem> train(CotStyle style) {
    return as(train, style);
  }

  /**
   * The training split with every valid path of every problem as an annotation of its own (one problem per
   * path, ids {@code <id>_path<i>}): the control for supervised fine-tuning on all paths. Problems without known
   * paths keep their one annotation.
   */
  public List<Problem> trainAllPaths(CotStyle style) {
    List<Problem> out = new ArrayList<>();
    for (SyntheticProblem p : train) {
      if (p.paths() == null) {
        out.add(p.toProblem(style));
        continue;
      }
      List<SolutionPaths.Path> paths = p.paths().paths();
      for (int i = 0; i < paths.size(); i++) {
        Problem one = p.toProblem(style);
        out.add(new Problem(p.id() + "_path" + i, one.dataset(), one.question(), one.goldAnswer(),
            paths.get(i).annotation(style), style, one.difficulty(), one.paths()));
      }
    }
    return out;
  }

  /** The main test split in one style. */
  public List<Problem> test(CotStyle style) {
    return as(test, style);
  }

  /** The hard test slice in one style. */
  public List<Problem> hardTest(CotStyle style) {
    return as(hardTest, style);
  }

  private static List<Problem> as(List<SyntheticProblem> problems, CotStyle style) {
    return problems.stream().map(p -> p.toProblem(style)).toList();
  }
}
