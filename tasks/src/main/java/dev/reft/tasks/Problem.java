package dev.reft.tasks;

import dev.reft.schemas.CotStyle;
import java.util.Objects;

/**
 * One math word problem with its reference answer and, for training data, one annotated chain of thought.
 *
 * @param id the data set's stable item id, e.g. {@code svamp_12}, {@code gsm8k_7}, {@code synthetic_train_3}
 * @param dataset the data set name: {@code gsm8k}, {@code svamp}, {@code mathqa}, {@code mathqa-numeric} or
 *     {@code synthetic}
 * @param question the problem text, without any prompt template
 * @param goldAnswer the reference answer as written in the data: a number ({@code "203.0"}, {@code "72"}) or,
 *     for {@link CotStyle#MCQ}, an option letter a–e
 * @param cot the annotated chain of thought in the data set's own form (for P-CoT the whole program including
 *     its {@code def solution():} header), or {@code null} for test items without one; {@link Prompts#target}
 *     turns it into the SFT target
 * @param style how chains of thought for this problem are written and graded
 * @param difficulty number of arithmetic steps for synthetic problems; 0 when unknown (real data sets)
 * @param paths every valid way to solve it, with costs, where the data knows them (the synthetic task), else
 *     {@code null}; evaluations measure which path a chain of thought took on problems with a choice
 */
public record Problem(String id, String dataset, String question, String goldAnswer, String cot, CotStyle style,
    int difficulty, SolutionPaths paths) {

  /** A problem whose solution paths are not known (real data sets). */
  public Problem(String id, String dataset, String question, String goldAnswer, String cot, CotStyle style,
      int difficulty) {
    this(id, dataset, question, goldAnswer, cot, style, difficulty, null);
  }

  public Problem {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(dataset, "dataset");
    Objects.requireNonNull(question, "question");
    Objects.requireNonNull(goldAnswer, "goldAnswer");
    Objects.requireNonNull(style, "style");
    if (difficulty < 0) {
      throw new IllegalArgumentException("difficulty must be >= 0: " + difficulty);
    }
  }

  /** Whether the item carries an annotated chain of thought (needed for SFT and for {@code data score}). */
  public boolean hasCot() {
    return cot != null && !cot.isBlank();
  }

  /** This problem with another style (e.g. an N-CoT item prompted for P-CoT at evaluation time). */
  public Problem withStyle(CotStyle newStyle) {
    return new Problem(id, dataset, question, goldAnswer, cot, newStyle, difficulty, paths);
  }
}
