package dev.reft.tasks;

import dev.reft.schemas.CotStyle;
import dev.reft.schemas.Outcome;
import dev.reft.tasks.sandbox.ExecutionResult;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxUnavailableException;
import java.math.BigDecimal;
import java.util.Objects;
import java.util.Optional;

/**
 * The ReFT reward rule (Luong et al., 2024; the official code): 1 if the extracted answer equals the gold answer ({@code |pred - gold|
 * <= 1e-2}, or the same option letter for MCQ), 0.1 if an answer was extracted but is wrong, 0 if none could
 * be extracted (P-CoT: exception, timeout, sandbox violation, non-numeric return value).
 *
 * <p>N-CoT and MCQ responses are graded in the JVM; P-CoT responses are turned into
 * {@link Prompts#program(String, String) header + response} and run in the {@link PythonSandbox}. Instances
 * are thread-safe; the reward service shares one per process. The grader does not own the sandbox: close the
 * sandbox yourself.
 */
public final class Grader {

  /** Name and version of this reward rule, recorded with every rewarded trajectory. */
  public static final String REWARD_RULE = "reft-v1";

  private final PythonSandbox sandbox;

  /**
   * @param sandbox the executor for P-CoT programs, or null for a grader of N-CoT/MCQ only (P-CoT grading then
   *     fails with {@link SandboxUnavailableException})
   */
  public Grader(PythonSandbox sandbox) {
    this.sandbox = sandbox;
  }

  /** Whether this grader can run P-CoT programs (it has a sandbox). */
  public boolean runsPrograms() {
    return sandbox != null;
  }

  /** A grader without a sandbox: N-CoT and MCQ only. */
  public static Grader textOnly() {
    return new Grader(null);
  }

  /**
   * Grades one response.
   *
   * @param style how the response is written
   * @param question the problem text (P-CoT: it forms the program's docstring, exactly as in the prompt)
   * @param response the generated text after the prompt
   * @param goldAnswer the reference answer (a number, or a letter a–e for MCQ)
   * @throws IllegalArgumentException if the gold answer is not a number (not a letter for MCQ)
   * @throws SandboxUnavailableException for P-CoT when this grader has no usable sandbox
   */
  public Grade grade(CotStyle style, String question, String response, String goldAnswer) {
    Objects.requireNonNull(style, "style");
    Objects.requireNonNull(response, "response");
    Objects.requireNonNull(goldAnswer, "goldAnswer");
    return switch (style) {
      case NCOT -> gradeNumber(response, goldAnswer);
      case MCQ -> gradeLetter(response, goldAnswer);
      case PCOT -> gradeProgram(Objects.requireNonNull(question, "question"), response, goldAnswer);
    };
  }

  /** Grades an N-CoT response: the number after the last "answer is" (or "####"). */
  public static Grade gradeNumber(String response, String goldAnswer) {
    long t0 = System.nanoTime();
    BigDecimal gold = numericGold(goldAnswer);
    Optional<String> extracted = Answers.extractNumber(response);
    if (extracted.isEmpty()) {
      return Grade.of(Outcome.NO_ANSWER, null, null, micros(t0));
    }
    Optional<BigDecimal> value = Answers.parseNumber(extracted.get());
    boolean correct = value.isPresent() && Answers.numbersMatch(value.get(), gold);
    return Grade.of(correct ? Outcome.CORRECT : Outcome.WRONG, extracted.get(), null, micros(t0));
  }

  /** Grades an MCQ response: the option letter after the last "answer is". */
  public static Grade gradeLetter(String response, String goldAnswer) {
    long t0 = System.nanoTime();
    String gold = Answers.goldLetter(goldAnswer).orElseThrow(
        () -> new IllegalArgumentException("MCQ gold answer is not an option letter a-e: '" + goldAnswer + "'"));
    Optional<String> extracted = Answers.extractLetter(response);
    if (extracted.isEmpty()) {
      return Grade.of(Outcome.NO_ANSWER, null, null, micros(t0));
    }
    return Grade.of(extracted.get().equals(gold) ? Outcome.CORRECT : Outcome.WRONG, extracted.get(), null, micros(t0));
  }

  /** Grades a P-CoT response by running {@code header(question) + response} in the sandbox. */
  public Grade gradeProgram(String question, String response, String goldAnswer) {
    BigDecimal gold = numericGold(goldAnswer);
    if (sandbox == null) {
      throw new SandboxUnavailableException("P-CoT grading needs the Python sandbox, and this grader has none");
    }
    ExecutionResult r = sandbox.execute(Prompts.program(question, response));
    return switch (r.status()) {
      case VALUE -> {
        Optional<BigDecimal> value = Answers.parseNumber(r.value());
        boolean correct = value.isPresent() && Answers.numbersMatch(value.get(), gold);
        yield Grade.of(correct ? Outcome.CORRECT : Outcome.WRONG, r.value(), null, r.micros());
      }
      case NOT_A_NUMBER -> Grade.of(Outcome.NO_ANSWER, null, r.error(), r.micros());
      case EXEC_ERROR -> Grade.of(Outcome.EXEC_ERROR, null, r.error(), r.micros());
      case TIMEOUT -> Grade.of(Outcome.TIMEOUT, null, r.error(), r.micros());
      case SANDBOX_VIOLATION -> Grade.of(Outcome.SANDBOX_VIOLATION, null, r.error(), r.micros());
    };
  }

  private static BigDecimal numericGold(String goldAnswer) {
    return Answers.parseNumber(goldAnswer).orElseThrow(
        () -> new IllegalArgumentException("gold answer is not a number: '" + goldAnswer + "'"));
  }

  private static long micros(long t0) {
    return (System.nanoTime() - t0) / 1_000;
  }
}
