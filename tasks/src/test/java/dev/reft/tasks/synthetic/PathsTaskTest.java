package dev.reft.tasks.synthetic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Grade;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import dev.reft.tasks.SolutionPaths;
import dev.reft.tasks.SolutionPaths.Choice;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The default synthetic task ({@link SyntheticConfig.Task#PATHS}): chains of different cost, and the facts. */
class PathsTaskTest {

  private static final SyntheticConfig CONFIG = SyntheticConfig.defaults(SyntheticConfig.DEFAULT_SEED);
  private static final SyntheticData DATA = SyntheticTask.generate(CONFIG);
  private static final int RANGE = CONFIG.maxResult();

  private static List<SyntheticProblem> all() {
    return Stream.of(DATA.train(), DATA.test(), DATA.hardTest()).flatMap(List::stream).toList();
  }

  private static List<SyntheticProblem> family(String family) {
    return all().stream().filter(p -> p.family().equals(family)).toList();
  }

  @Test
  void isTheDefaultAndDeterministic() {
    assertThat(SyntheticConfig.defaults(7).task()).isEqualTo(SyntheticConfig.Task.PATHS);
    assertThat(SyntheticTask.generate(CONFIG)).isEqualTo(DATA);
    assertThat(SyntheticTask.generate(CONFIG.withSeed(99)).test().get(0).question())
        .isNotEqualTo(DATA.test().get(0).question());
    SyntheticData smaller = SyntheticTask.generate(CONFIG.withSizes(300, 1_000, 500));
    assertThat(smaller.test()).isEqualTo(DATA.test());
    assertThat(smaller.hardTest()).isEqualTo(DATA.hardTest());
  }

  @Test
  void splitsHoldNoQuestionTwiceAndTheFactsComeOnTop() {
    long facts = DATA.train().stream().filter(p -> p.family().equals(PathsTask.FACT)).count();
    assertThat(DATA.train()).hasSize((int) facts + CONFIG.trainSize());
    assertThat(DATA.test()).hasSize(1_000).noneMatch(p -> p.family().equals(PathsTask.FACT));
    assertThat(DATA.hardTest()).hasSize(500).allMatch(p -> p.steps() == 4);
    Set<String> questions = new HashSet<>();
    Set<String> ids = new HashSet<>();
    for (SyntheticProblem p : all()) {
      assertThat(questions.add(p.question())).as(p.question()).isTrue();
      assertThat(ids.add(p.id())).as(p.id()).isTrue();
    }
    Map<String, Long> families = DATA.test().stream()
        .collect(Collectors.groupingBy(SyntheticProblem::family, Collectors.counting()));
    assertThat(families.keySet()).containsExactlyInAnyOrder(PathsTask.PLAIN, PathsTask.CANCEL, PathsTask.DISTRIBUTE,
        PathsTask.ORDER);
    families.values().forEach(n -> assertThat(n).isBetween(200L, 300L)); // a quarter each
    assertThat(DATA.test()).allMatch(p -> p.steps() >= 2 && p.steps() <= 3);
  }

  @Test
  void theFactsAreEverySingleStepOfThePractisedRangeOnce() {
    Set<String> expected = new TreeSet<>();
    for (int a = 2; a <= RANGE; a++) {
      for (int b = 2; b <= CONFIG.maxNumber(); b++) {
        if (a + b <= RANGE) {
          expected.add(a + " + " + b + " = " + (a + b));
        }
        if (a - b >= 1) {
          expected.add(a + " - " + b + " = " + (a - b));
        }
      }
    }
    for (int a = 2; a <= CONFIG.maxFactor(); a++) {
      for (int b = 2; b <= CONFIG.maxFactor(); b++) {
        expected.add(a + " * " + b + " = " + (a * b));
      }
    }
    List<String> facts = new ArrayList<>();
    Pattern equation = Pattern.compile("\\d+ [-+*] \\d+ = \\d+");
    for (SyntheticProblem p : family(PathsTask.FACT)) {
      assertThat(p.steps()).isEqualTo(1);
      assertThat(p.paths().hasChoice()).isFalse();
      Matcher m = equation.matcher(p.ncot());
      assertThat(m.find()).as(p.ncot()).isTrue();
      facts.add(m.group());
      assertThat(SyntheticTask.isFact(p.toProblem(CotStyle.NCOT))).isTrue();
    }
    assertThat(facts).hasSameSizeAs(expected);
    assertThat(new TreeSet<>(facts)).isEqualTo(expected);
    assertThat(DATA.test(CotStyle.NCOT)).noneMatch(SyntheticTask::isFact);
  }

  /** "X has s noun. She buys n more noun. She gives away n noun." and the other way round. */
  @Test
  void aCancellationHasTheSequentialOrdersByHandAndTheFreeShortcut() {
    Pattern twoEvents = Pattern.compile("has (\\d+) [^.]*\\. \\w+ [a-z ]+ (\\d+) (more )?[^.]*\\. \\w+ [a-z ]+ (\\d+) (more )?[^.]*\\. How");
    int checked = 0;
    for (SyntheticProblem p : family(PathsTask.CANCEL)) {
      Matcher m = twoEvents.matcher(p.question());
      if (p.steps() != 2 || !m.find()) {
        continue;
      }
      int s = Integer.parseInt(m.group(1));
      int n = Integer.parseInt(m.group(2));
      boolean gainFirst = m.group(3) != null;
      assertThat(Integer.parseInt(m.group(4))).isEqualTo(n);
      List<String> expected = new ArrayList<>();
      expected.add("[cancel] cost 0");
      if (s + n <= 2 * RANGE) {
        expected.add("[" + s + " + " + n + ", " + (s + n) + " - " + n + "] cost " + (2 + (s + n > RANGE ? 1 : 0)));
      }
      if (s >= n) {
        expected.add("[" + s + " - " + n + ", " + (s - n) + " + " + n + "] cost 2");
      }
      assertThat(describe(p.paths())).as(p.question() + (gainFirst ? " (gain first)" : ""))
          .containsExactlyInAnyOrderElementsOf(expected);
      assertThat(p.answer()).isEqualTo(s);
      checked++;
    }
    assertThat(checked).isGreaterThan(100);
  }

  /** "X has s noun. She buys g more noun. She eats l noun." where one order leaves 0..30. */
  @Test
  void anOrderProblemCostsOneMoreForEveryStepOutsideThePractisedRange() {
    Pattern twoEvents = Pattern.compile("has (\\d+) [^.]*\\. \\w+ [a-z ]+ (\\d+) (more )?[^.]*\\. \\w+ [a-z ]+ (\\d+) (more )?[^.]*\\. How");
    int checked = 0;
    for (SyntheticProblem p : family(PathsTask.ORDER)) {
      Matcher m = twoEvents.matcher(p.question());
      if (p.steps() != 2 || !m.find()) {
        continue;
      }
      int s = Integer.parseInt(m.group(1));
      int first = Integer.parseInt(m.group(2)) * (m.group(3) != null ? 1 : -1);
      int second = Integer.parseInt(m.group(4)) * (m.group(5) != null ? 1 : -1);
      List<String> expected = new ArrayList<>();
      for (int[] order : new int[][] {{first, second}, {second, first}}) {
        int mid = s + order[0];
        if (mid < 0 || mid > 2 * RANGE) {
          continue;
        }
        int end = mid + order[1];
        expected.add("[" + s + op(order[0]) + Math.abs(order[0]) + ", " + mid + op(order[1]) + Math.abs(order[1]) + "] cost "
            + (2 + (mid > RANGE ? 1 : 0) + (end > RANGE ? 1 : 0)));
      }
      assertThat(describe(p.paths())).as(p.question()).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(p.paths().hasChoice()).isTrue();
      assertThat(p.paths().cheapest()).allSatisfy(path ->
          assertThat(path.steps()).allMatch(step -> step.result() >= 0 && step.result() <= RANGE));
      checked++;
    }
    assertThat(checked).isGreaterThan(100);
  }

  private static String op(int signed) {
    return signed >= 0 ? " + " : " - ";
  }

  /** "X has a bags with c noun in each bag. She buys b boxes with c noun in each box." */
  @Test
  void theDistributiveShortcutSavesAStep() {
    Pattern groups = Pattern.compile("has (\\d+) \\w+ with (\\d+) [^.]* in each \\w+\\. \\w+ ([a-z ]+) (\\d+) \\w+ with (\\d+) ");
    int checked = 0;
    for (SyntheticProblem p : family(PathsTask.DISTRIBUTE)) {
      Matcher m = groups.matcher(p.question());
      if (p.steps() != 3 || !m.find()) {
        continue;
      }
      int a = Integer.parseInt(m.group(1));
      int c = Integer.parseInt(m.group(2));
      int b = Integer.parseInt(m.group(4));
      assertThat(Integer.parseInt(m.group(5))).isEqualTo(c);
      int sign = p.answer() == (long) (a + b) * c ? 1 : -1;
      assertThat(p.answer()).isEqualTo((long) (a + sign * b) * c);
      String combine = (a * c) + (sign > 0 ? " + " : " - ") + (b * c);
      assertThat(describe(p.paths())).as(p.question()).containsExactlyInAnyOrder(
          "[" + a + " * " + c + ", " + b + " * " + c + ", " + combine + "] cost 3",
          "[" + b + " * " + c + ", " + a + " * " + c + ", " + combine + "] cost 3",
          "[" + a + (sign > 0 ? " + " : " - ") + b + ", " + (a + sign * b) + " * " + c + "] cost 2");
      checked++;
    }
    assertThat(checked).isGreaterThan(100);
  }

  private static List<String> describe(SolutionPaths paths) {
    return paths.paths().stream().map(p -> p.steps().stream().map(SolutionPaths.Step::expression).toList()
        .toString() + " cost " + p.cost()).toList();
  }

  @Test
  void everyFamilyButPlainHasACheaperChainAndTheCheapestStaysInRange() {
    for (SyntheticProblem p : all()) {
      boolean choice = p.paths().hasChoice();
      assertThat(choice).as(p.family() + ": " + p.question())
          .isEqualTo(!p.family().equals(PathsTask.PLAIN) && !p.family().equals(PathsTask.FACT));
      assertThat(p.paths().cheapest()).as(p.question()).allSatisfy(path -> assertThat(path.steps())
          .allMatch(s -> s.result() >= 0 && s.result() <= RANGE));
      assertThat(p.answer()).isBetween(1L, (long) RANGE);
      assertThat(p.validOrders()).isEqualTo(p.paths().paths().size());
    }
  }

  @Test
  void halfTheAnnotationsShowACheapestChainAndTheClassifierRecognisesEach() {
    List<SyntheticProblem> withChoice = all().stream().filter(p -> p.paths().hasChoice()).toList();
    long cheapest = withChoice.stream().filter(SyntheticProblem::annotatedCheapest).count();
    assertThat(cheapest / (double) withChoice.size()).isBetween(0.45, 0.55);
    for (SyntheticProblem p : withChoice) {
      Choice expected = p.annotatedCheapest() ? Choice.CHEAPEST : Choice.COSTLIER;
      assertThat(p.paths().classify(CotStyle.NCOT, p.ncot())).as(p.ncot()).isEqualTo(expected);
      String body = Prompts.target(p.toProblem(CotStyle.PCOT));
      assertThat(p.paths().classify(CotStyle.PCOT, body)).as(body).isEqualTo(expected);
    }
  }

  @Test
  void everyPathsNcotAnnotationScoresCorrect() {
    for (SyntheticProblem sp : all()) {
      for (SolutionPaths.Path path : sp.paths().paths()) {
        Grade g = Grader.textOnly().grade(CotStyle.NCOT, sp.question(), path.ncot(), Long.toString(sp.answer()));
        assertThat(g.correct()).as(sp.id() + "\n" + path.ncot()).isTrue();
      }
      assertThat(sp.ncot()).isEqualTo(sp.paths().paths().get(sp.annotationIndex()).ncot());
    }
  }

  @Test
  void everyPcotProgramOfTheHeldOutSplitsRunsToItsAnswerInTheSandbox() throws Exception {
    List<Problem> programs = new ArrayList<>();
    for (SyntheticProblem sp : Stream.concat(DATA.test().stream(), DATA.hardTest().stream()).toList()) {
      for (SolutionPaths.Path path : sp.paths().paths()) {
        Problem p = sp.toProblem(CotStyle.PCOT);
        programs.add(new Problem(p.id(), p.dataset(), p.question(), p.goldAnswer(), path.pcot(), CotStyle.PCOT,
            p.difficulty()));
      }
    }
    try (PythonSandbox sandbox = PythonSandbox.start(SandboxConfig.defaults())) {
      Grader grader = new Grader(sandbox);
      ExecutorService callers = Executors.newFixedThreadPool(4);
      try {
        List<Future<Grade>> grades = new ArrayList<>();
        for (Problem p : programs) {
          grades.add(callers.submit(() -> grader.grade(CotStyle.PCOT, p.question(), Prompts.target(p), p.goldAnswer())));
        }
        for (int i = 0; i < programs.size(); i++) {
          assertThat(grades.get(i).get().correct()).as(programs.get(i).cot()).isTrue();
        }
      } finally {
        callers.shutdownNow();
      }
    }
  }

  @Test
  void trainingOnAllPathsGivesOneExamplePerPath() {
    List<Problem> allPaths = DATA.trainAllPaths(CotStyle.NCOT);
    long expected = DATA.train().stream().mapToLong(p -> p.paths().paths().size()).sum();
    assertThat(allPaths).hasSize((int) expected);
    SyntheticProblem first = DATA.train().stream().filter(p -> p.paths().paths().size() > 1).findFirst().orElseThrow();
    assertThat(allPaths).filteredOn(p -> p.question().equals(first.question()))
        .extracting(Problem::cot).containsExactlyInAnyOrderElementsOf(
            first.paths().paths().stream().map(SolutionPaths.Path::ncot).toList());
  }

  @Test
  void sequencesStayShort() {
    for (SyntheticProblem p : all()) {
      int tokens = (Prompts.prompt(CotStyle.NCOT, p.question()) + p.ncot()).split("(?<=\\d)|(?=\\d)|\\s+").length;
      assertThat(tokens).as(p.question()).isLessThan(p.steps() <= 3 ? 140 : 170);
    }
  }
}
