package dev.reft.tasks;

import dev.reft.schemas.CotStyle;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The valid ways to solve one problem, each with a cost, and which of them a generated chain of thought took.
 *
 * <p>A path is a sequence of {@link Step}s. Its cost counts the arithmetic steps, plus one for every step whose
 * result leaves the practised range (see the synthetic task): a cheaper path has fewer chances to slip. A problem
 * {@link #hasChoice() has a choice} when some valid path costs more than the cheapest one. The path-choice measure
 * of an evaluation is the share of greedy chains, on problems with a choice, that follow a cheapest path
 * ({@link Choice#CHEAPEST}) rather than a costlier one ({@link Choice#COSTLIER}).
 *
 * <p>Matching a response to a path (see {@link #classify}):
 * <ul>
 *   <li>N-CoT: every line with {@code a op b = c} is a step with expression {@code "a op b"} and result c, and a
 *       line that says {@code cancel out} is the step {@value #CANCEL}; other lines are ignored. A response follows
 *       a path when its steps have the path's expressions in order, up to and including its first wrong result
 *       (after a slip, later expressions use the wrong number and can no longer match), and, when no step is
 *       wrong, it has exactly the path's steps.
 *   <li>P-CoT: every non-blank body line that is not a number assignment ({@code apples = 24}), the
 *       {@code result = ...} line nor {@code return} is a step; a response follows a path when those lines equal the path's code lines.
 * </ul>
 * A response consistent with both a cheapest and a costlier path (a slip in a step they share), or with none, is
 * {@link Choice#UNMATCHED}.
 *
 * @param paths every valid path (at least one)
 */
public record SolutionPaths(List<Path> paths) {

  /** The expression of a step that cancels a gain against an equal loss (no arithmetic). */
  public static final String CANCEL = "cancel";

  /**
   * One step of a path.
   *
   * @param expression the N-CoT left-hand side, such as {@code "24 + 9"}, or {@value #CANCEL}
   * @param result the step's value (for {@value #CANCEL}: the running total, unchanged)
   * @param code the P-CoT line of the step, such as {@code "total = apples + bought"}
   */
  public record Step(String expression, long result, String code) {
    public Step {
      Objects.requireNonNull(expression, "expression");
      Objects.requireNonNull(code, "code");
    }
  }

  /**
   * One valid way to solve the problem.
   *
   * @param steps the steps in order
   * @param cost arithmetic steps plus one per step whose result leaves the practised range
   * @param ncot the N-CoT annotation that follows this path
   * @param pcot the P-CoT annotation that follows this path
   */
  public record Path(List<Step> steps, int cost, String ncot, String pcot) {
    public Path {
      steps = List.copyOf(steps);
      Objects.requireNonNull(ncot, "ncot");
      Objects.requireNonNull(pcot, "pcot");
    }

    /** The annotation of this path in a style. */
    public String annotation(CotStyle style) {
      return switch (style) {
        case NCOT -> ncot;
        case PCOT -> pcot;
        case MCQ -> throw new IllegalArgumentException("no multiple-choice annotation");
      };
    }
  }

  /** Which kind of path a response took. */
  public enum Choice { CHEAPEST, COSTLIER, UNMATCHED }

  private static final Pattern NCOT_STEP = Pattern.compile("(\\d+) ([-+*/]) (\\d+) = (-?\\d+)");
  private static final Pattern NUMBER_ASSIGNMENT = Pattern.compile("[A-Za-z_][A-Za-z_0-9]* = -?\\d+(\\.\\d+)?");

  public SolutionPaths {
    paths = List.copyOf(paths);
    if (paths.isEmpty()) {
      throw new IllegalArgumentException("a problem has at least one solution path");
    }
  }

  /** The lowest cost of any path. */
  public int cheapestCost() {
    return paths.stream().mapToInt(Path::cost).min().orElseThrow();
  }

  /** Whether some valid path costs more than the cheapest: only then is there a choice to measure. */
  public boolean hasChoice() {
    return paths.stream().anyMatch(p -> p.cost() > cheapestCost());
  }

  /** The paths of the lowest cost. */
  public List<Path> cheapest() {
    int min = cheapestCost();
    return paths.stream().filter(p -> p.cost() == min).toList();
  }

  /** Which kind of path a generated response follows (see the class description). */
  public Choice classify(CotStyle style, String response) {
    boolean cheap = false;
    boolean costly = false;
    int min = cheapestCost();
    for (Path p : paths) {
      boolean follows = style == CotStyle.PCOT ? followsCode(p, response) : followsText(p, response);
      if (follows) {
        cheap |= p.cost() == min;
        costly |= p.cost() > min;
      }
    }
    return cheap == costly ? Choice.UNMATCHED : cheap ? Choice.CHEAPEST : Choice.COSTLIER;
  }

  /**
   * A step as read from an N-CoT response: its expression and the result the model wrote (null: none). The result
   * is kept exactly as written, however many digits a degenerate sample runs to.
   */
  record WrittenStep(String expression, BigInteger result) {}

  /** The steps of an N-CoT response in order. */
  static List<WrittenStep> writtenSteps(String response) {
    List<WrittenStep> out = new ArrayList<>();
    for (String line : response.split("\n")) {
      Matcher m = NCOT_STEP.matcher(line);
      if (m.find()) {
        out.add(new WrittenStep(m.group(1) + " " + m.group(2) + " " + m.group(3), new BigInteger(m.group(4))));
      } else if (line.contains("cancel out")) {
        out.add(new WrittenStep(CANCEL, null));
      }
    }
    return out;
  }

  private static boolean followsText(Path path, String response) {
    List<WrittenStep> written = writtenSteps(response);
    List<Step> steps = path.steps();
    for (int i = 0; i < written.size(); i++) {
      if (i >= steps.size() || !written.get(i).expression().equals(steps.get(i).expression())) {
        return false;
      }
      BigInteger result = written.get(i).result();
      if (result != null && !result.equals(BigInteger.valueOf(steps.get(i).result()))) {
        return true; // a slip: what follows cannot match any path
      }
    }
    return written.size() == steps.size();
  }

  private static boolean followsCode(Path path, String response) {
    List<String> lines = new ArrayList<>();
    for (String line : response.split("\n")) {
      String s = line.strip();
      if (!s.isEmpty() && !s.startsWith("return") && !s.startsWith("result =") && !NUMBER_ASSIGNMENT.matcher(s).matches()) {
        lines.add(s);
      }
    }
    return lines.equals(path.steps().stream().map(Step::code).toList());
  }
}
