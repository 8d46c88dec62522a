package dev.reft.tasks;

import dev.reft.schemas.CotStyle;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The ReFT prompt and target formats (those of the official ReFT code), shared by the learner (SFT targets), the samplers
 * (prompts) and the reward service (programs to execute).
 *
 * <pre>
 * N-CoT / MCQ prompt:  "Question:\n{q}\nAnswer reasoning:\n"
 * P-CoT prompt:        "Question:\n{q}\nAnswer reasoning:\n" + "def solution():\n    \"\"\"{q}\"\"\"\n"
 * N-CoT target:        "{cot}\nTherefore, the answer is: {answer}"   (kept as is if the annotation already
 *                      ends with an answer statement, e.g. SVAMP's "Therefore, the answer is &lt;203&gt;.";
 *                      GSM8K's &lt;&lt;calc&gt;&gt; annotations and "#### N" line are removed first)
 * P-CoT target:        the annotated program without its header line and docstring
 * P-CoT program:       "def solution():\n    \"\"\"{q}\"\"\"\n" + response
 * </pre>
 *
 * <p>The P-CoT prompt ends with the program header, so the model continues the function body; the program
 * executed is that same header followed by the generated response. If a question contains characters that
 * would break the docstring (a backslash or {@code """}, or a trailing {@code "}), they are escaped
 * identically in the prompt and in the program.
 */
public final class Prompts {

  /** Prefix of every prompt. */
  public static final String QUESTION_PREFIX = "Question:\n";
  /** Separator between the question and the model's reasoning. */
  public static final String ANSWER_PREFIX = "\nAnswer reasoning:\n";
  /** The sentence that ends an N-CoT target, followed by the answer. */
  public static final String ANSWER_STATEMENT = "Therefore, the answer is: ";

  private static final Pattern CALCULATOR_ANNOTATION = Pattern.compile("<<[^<>\n]*>>");
  private static final String PROGRAM_START = "def solution():\n    \"\"\"";
  private static final String DOCSTRING_END = "\"\"\"\n";

  private Prompts() {}

  /** The prompt for a question in the given style. */
  public static String prompt(CotStyle style, String question) {
    Objects.requireNonNull(style, "style");
    String base = QUESTION_PREFIX + question + ANSWER_PREFIX;
    return style == CotStyle.PCOT ? base + programHeader(question) : base;
  }

  /** {@code def solution():} and the question as docstring, ending with a newline: the P-CoT prompt's tail. */
  public static String programHeader(String question) {
    return PROGRAM_START + docstringText(question) + DOCSTRING_END;
  }

  /** The Python program to execute for a P-CoT response: {@link #programHeader} + the response. */
  public static String program(String question, String response) {
    return programHeader(question) + response;
  }

  /**
   * The SFT target of an annotated problem: what the model must generate after {@link #prompt}.
   *
   * @throws IllegalArgumentException if the problem has no annotation, or a P-CoT annotation does not start
   *     with a {@code def solution():} header and docstring
   */
  public static String target(Problem problem) {
    if (!problem.hasCot()) {
      throw new IllegalArgumentException("problem " + problem.id() + " has no annotated chain of thought");
    }
    return switch (problem.style()) {
      case PCOT -> pcotTarget(problem.id(), problem.cot());
      case NCOT, MCQ -> ncotTarget(problem.cot(), problem.goldAnswer());
    };
  }

  /**
   * {@code {cot}\nTherefore, the answer is: {answer}} with the answer in plain form ({@code 203.0} →
   * {@code 203}).
   *
   * <p>GSM8K-style annotations are cleaned first: calculator annotations ({@code <<48/2=24>>}) are removed and a
   * final {@code #### 72} line is dropped, so {@code "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n...\n#### 72"}
   * becomes {@code "Natalia sold 48/2 = 24 clips in May.\n...\nTherefore, the answer is: 72"}. An annotation whose
   * last line already states this answer (SVAMP's {@code Therefore, the answer is <203>.}, four GSM8K solutions'
   * {@code The answer is 8.}) is kept as it is (trailing white space removed); one whose last line states another
   * answer still gets the gold statement appended, so every target ends with its gold answer.
   */
  public static String ncotTarget(String cot, String answer) {
    String body = stripGsm8kMarkup(cot);
    if (endsWithAnswerStatement(body, answer)) {
      return body;
    }
    return (body.isEmpty() ? "" : body + "\n") + ANSWER_STATEMENT + Answers.format(answer);
  }

  /**
   * A chain of thought without GSM8K's markup: calculator annotations ({@code <<48/2=24>>}) removed, a final
   * {@code #### 72} line dropped, trailing white space removed. Other text is unchanged, so an annotation without
   * that markup (SVAMP's, or one already cleaned) comes back as it was, apart from trailing white space.
   */
  public static String stripGsm8kMarkup(String cot) {
    String body = CALCULATOR_ANNOTATION.matcher(cot).replaceAll("").stripTrailing();
    int lastLine = body.lastIndexOf('\n') + 1;
    if (body.substring(lastLine).strip().startsWith("####")) {
      body = body.substring(0, lastLine).stripTrailing();
    }
    return body;
  }

  /** Whether the last line of a text says "... answer is X" (or "#### X") with X equal to the given answer. */
  public static boolean endsWithAnswerStatement(String text, String answer) {
    String body = text.stripTrailing();
    String lastLine = body.substring(body.lastIndexOf('\n') + 1);
    String lower = lastLine.toLowerCase(Locale.ROOT);
    if (!lower.contains("answer is") && !lower.contains("####")) {
      return false;
    }
    var gold = Answers.parseNumber(answer);
    if (gold.isPresent()) {
      return Answers.extractNumber(lastLine).flatMap(Answers::parseNumber)
          .map(n -> Answers.numbersMatch(n, gold.get())).orElse(false);
    }
    var letter = Answers.goldLetter(answer);
    return letter.isPresent() && Answers.extractLetter(lastLine).equals(letter);
  }

  /**
   * The P-CoT target: the annotation without its first line ({@code def solution():}) and the docstring that
   * follows. The ReFT annotations repeat the question as docstring, mostly verbatim; 37 of SVAMP's differ from
   * the {@code question} field in spacing, so the docstring is removed wherever it ends.
   */
  public static String pcotTarget(String itemId, String annotation) {
    if (!annotation.startsWith(PROGRAM_START)) {
      throw new IllegalArgumentException("P-CoT annotation of " + itemId
          + " does not start with 'def solution():' and a docstring: "
          + annotation.substring(0, Math.min(60, annotation.length())));
    }
    int end = annotation.indexOf(DOCSTRING_END, PROGRAM_START.length());
    if (end < 0) {
      throw new IllegalArgumentException("P-CoT annotation of " + itemId + " has no closing \"\"\" line");
    }
    return annotation.substring(end + DOCSTRING_END.length());
  }

  /** The question as it appears inside the docstring (escaped only where it would break the string). */
  static String docstringText(String question) {
    String s = question;
    if (s.indexOf('\\') >= 0) {
      s = s.replace("\\", "\\\\");
    }
    if (s.contains("\"\"\"")) {
      s = s.replace("\"\"\"", "\\\"\\\"\\\"");
    }
    if (s.endsWith("\"")) {
      s = s.substring(0, s.length() - 1) + "\\\"";
    }
    return s;
  }
}
