package dev.reft.tasks.synthetic;

import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Problem;
import dev.reft.tasks.SolutionPaths;
import java.util.Objects;

/**
 * One generated word problem with both annotations.
 *
 * @param id {@code synthetic_train_17}, {@code synthetic_test_3}, {@code synthetic_hard_0}
 * @param question the problem text
 * @param answer the whole-number answer
 * @param steps the number of arithmetic operations needed (the difficulty)
 * @param validOrders how many different step orders solve it (the annotation shows one, chosen at random)
 * @param ncot the N-CoT annotation: one sentence per step, then {@code Therefore, the answer is: N}
 * @param pcot the P-CoT annotation in the ReFT format: {@code def solution():}, the question as docstring, named
 *     variables, {@code result = ...}, {@code return result}
 * @param family the kind of problem ({@code orders} for {@link SyntheticConfig.Task#ORDERS}; see {@link PathsTask}
 *     for the others)
 * @param paths every valid path with its cost ({@link SyntheticConfig.Task#PATHS}), else {@code null}
 * @param annotationIndex which of {@code paths} the annotation shows (-1 without paths)
 */
public record SyntheticProblem(String id, String question, long answer, int steps, int validOrders, String ncot,
    String pcot, String family, SolutionPaths paths, int annotationIndex) {

  /** The data set name of synthetic problems. */
  public static final String DATASET = "synthetic";

  public SyntheticProblem {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(question, "question");
    Objects.requireNonNull(ncot, "ncot");
    Objects.requireNonNull(pcot, "pcot");
  }

  /** This problem as an N-CoT or P-CoT {@link Problem}, with its annotation and difficulty. */
  public Problem toProblem(CotStyle style) {
    String cot = switch (style) {
      case NCOT -> ncot;
      case PCOT -> pcot;
      case MCQ -> throw new IllegalArgumentException("synthetic problems are not multiple choice");
    };
    return new Problem(id, DATASET, question, Long.toString(answer), cot, style, steps, paths);
  }

  /** Whether the annotation follows one of the cheapest paths (false without paths). */
  public boolean annotatedCheapest() {
    return paths != null && paths.paths().get(annotationIndex).cost() == paths.cheapestCost();
  }
}
