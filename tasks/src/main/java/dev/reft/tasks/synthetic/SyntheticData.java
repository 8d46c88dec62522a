package dev.reft.tasks.synthetic;

import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Problem;
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
