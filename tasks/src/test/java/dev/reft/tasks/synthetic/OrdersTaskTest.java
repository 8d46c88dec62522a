package dev.reft.tasks.synthetic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Grade;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IntSummaryStatistics;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The first synthetic task ({@link SyntheticConfig.Task#ORDERS}): orders of equal cost. */
class OrdersTaskTest {

  private static final SyntheticConfig ORDERS = SyntheticConfig.defaults(SyntheticConfig.Task.ORDERS,
      SyntheticConfig.DEFAULT_SEED);

  /** Word-level tokens as a simple tokenizer would cut them: words, single digits, punctuation, newlines. */
  private static final Pattern TOKEN = Pattern.compile("\\d|[A-Za-z_]+|\\n|[^\\sA-Za-z_\\d]");

  private static final SyntheticData DATA = SyntheticTask.generate(ORDERS);

  private static List<SyntheticProblem> all(SyntheticData d) {
    return Stream.of(d.train(), d.test(), d.hardTest()).flatMap(List::stream).toList();
  }

  @Test
  void sameConfigurationSameProblems() {
    SyntheticData again = SyntheticTask.generate(ORDERS);
    assertThat(again).isEqualTo(DATA);
    SyntheticData otherSeed = SyntheticTask.generate(ORDERS.withSeed(99));
    assertThat(otherSeed.train().get(0).question()).isNotEqualTo(DATA.train().get(0).question());
  }

  @Test
  void testSplitsDoNotDependOnTheTrainingSize() {
    SyntheticData small = SyntheticTask.generate(ORDERS.withSizes(100, 1_000, 500));
    assertThat(small.test()).isEqualTo(DATA.test());
    assertThat(small.hardTest()).isEqualTo(DATA.hardTest());
  }

  @Test
  void splitsHaveTheConfiguredSizesAndNoQuestionTwice() {
    assertThat(DATA.train()).hasSize(2_000);
    assertThat(DATA.test()).hasSize(1_000);
    assertThat(DATA.hardTest()).hasSize(500);
    Set<String> train = DATA.train().stream().map(SyntheticProblem::question).collect(Collectors.toSet());
    Set<String> test = DATA.test().stream().map(SyntheticProblem::question).collect(Collectors.toSet());
    Set<String> hard = DATA.hardTest().stream().map(SyntheticProblem::question).collect(Collectors.toSet());
    assertThat(train).hasSize(2_000).doesNotContainAnyElementsOf(test).doesNotContainAnyElementsOf(hard);
    assertThat(test).hasSize(1_000).doesNotContainAnyElementsOf(hard);
    assertThat(hard).hasSize(500);
    Set<String> ids = new HashSet<>();
    all(DATA).forEach(p -> assertThat(ids.add(p.id())).as(p.id()).isTrue());
    assertThat(DATA.train().get(0).id()).isEqualTo("synthetic_train_0");
    assertThat(DATA.hardTest().get(0).toProblem(CotStyle.NCOT).dataset()).isEqualTo("synthetic");
  }

  @Test
  void difficultyLevelsAndAHarderHeldOutSlice() {
    Map<Integer, Long> train = DATA.train().stream().collect(Collectors.groupingBy(SyntheticProblem::steps, Collectors.counting()));
    Map<Integer, Long> test = DATA.test().stream().collect(Collectors.groupingBy(SyntheticProblem::steps, Collectors.counting()));
    assertThat(train.keySet()).containsExactlyInAnyOrder(1, 2, 3);
    assertThat(test.keySet()).containsExactlyInAnyOrder(1, 2, 3);
    train.values().forEach(n -> assertThat(n).isBetween(500L, 800L));  // roughly uniform
    assertThat(DATA.hardTest()).allSatisfy(p -> assertThat(p.steps()).isEqualTo(4));
    // The step count is the number of operations written in the annotation.
    for (SyntheticProblem p : all(DATA)) {
      long operations = p.ncot().lines().filter(l -> l.matches(".* [-+*/] .* = .*")).count();
      assertThat(operations).as(p.ncot()).isEqualTo(p.steps());
    }
  }

  @Test
  void manyProblemsHaveSeveralValidOrdersAndTheAnnotatedOrderVaries() {
    List<SyntheticProblem> multiStep = DATA.train().stream().filter(p -> p.steps() >= 2).toList();
    long several = multiStep.stream().filter(p -> p.validOrders() >= 2).count();
    assertThat((double) several / multiStep.size()).isGreaterThan(0.5);
    // Among problems with several orders, the annotation does not always follow the question's order:
    // e.g. a later quantity is combined first.
    long reordered = multiStep.stream().filter(p -> p.validOrders() >= 2)
        .filter(p -> !firstCombinationUsesTheFirstNumber(p)).count();
    assertThat(reordered).isGreaterThan(several / 5);
  }

  private static boolean firstCombinationUsesTheFirstNumber(SyntheticProblem p) {
    Matcher number = Pattern.compile("\\d+").matcher(p.question());
    number.find();
    String first = number.group();
    String firstStep = p.ncot().lines().findFirst().orElseThrow();
    return firstStep.matches(".* " + first + " [-+*/] .*");
  }

  @Test
  void everyNcotAnnotationScoresCorrectUnderTheProjectsOwnGrader() {
    for (SyntheticProblem sp : all(DATA)) {
      Problem p = sp.toProblem(CotStyle.NCOT);
      assertThat(p.cot()).endsWith("\nTherefore, the answer is: " + sp.answer());
      assertThat(Prompts.target(p)).isEqualTo(p.cot());
      Grade g = Grader.textOnly().grade(CotStyle.NCOT, p.question(), Prompts.target(p), p.goldAnswer());
      assertThat(g.correct()).as(p.id() + "\n" + p.cot()).isTrue();
      assertThat(sp.answer()).isBetween(1L, 100L);
    }
  }

  @Test
  void everyPcotAnnotationScoresCorrectInTheSandbox() throws Exception {
    List<Problem> problems = all(DATA).stream().map(p -> p.toProblem(CotStyle.PCOT)).toList();
    try (PythonSandbox sandbox = PythonSandbox.start(SandboxConfig.defaults())) {
      Grader grader = new Grader(sandbox);
      ExecutorService callers = Executors.newFixedThreadPool(4);
      try {
        List<Future<Grade>> grades = new ArrayList<>();
        for (Problem p : problems) {
          assertThat(p.cot()).startsWith(Prompts.programHeader(p.question())).endsWith("\n    return result");
          grades.add(callers.submit(() -> grader.grade(CotStyle.PCOT, p.question(), Prompts.target(p), p.goldAnswer())));
        }
        for (int i = 0; i < problems.size(); i++) {
          assertThat(grades.get(i).get().correct()).as(problems.get(i).id() + "\n" + problems.get(i).cot()).isTrue();
        }
      } finally {
        callers.shutdownNow();
      }
    }
  }

  @Test
  void sequencesAreShortAndTheVocabularyIsSmall() {
    Set<String> vocabulary = new TreeSet<>();
    IntSummaryStatistics ncotUpTo3 = new IntSummaryStatistics();
    IntSummaryStatistics pcotUpTo3 = new IntSummaryStatistics();
    for (SyntheticProblem sp : all(DATA)) {
      for (CotStyle style : List.of(CotStyle.NCOT, CotStyle.PCOT)) {
        Problem p = sp.toProblem(style);
        List<String> tokens = tokens(Prompts.prompt(style, p.question()) + Prompts.target(p));
        vocabulary.addAll(tokens);
        if (sp.steps() <= 3) {
          (style == CotStyle.NCOT ? ncotUpTo3 : pcotUpTo3).accept(tokens.size());
        }
      }
    }
    // Prompt + question + N-CoT of 1-3 step problems: under 120 tokens, ~80 on average.
    assertThat(ncotUpTo3.getMax()).isLessThan(120);
    assertThat(ncotUpTo3.getAverage()).isLessThan(90);
    // P-CoT repeats the question as docstring (the ReFT format), hence longer.
    assertThat(pcotUpTo3.getMax()).isLessThan(170);
    assertThat(vocabulary.size()).as("%s", vocabulary).isLessThan(200);
  }

  private static List<String> tokens(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = TOKEN.matcher(text);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  @Test
  void answersAndNumbersStaySmall() {
    Function<String, Stream<Integer>> numbers = text -> Pattern.compile("\\d+").matcher(text).results()
        .map(r -> Integer.parseInt(r.group()));
    for (SyntheticProblem p : all(DATA)) {
      assertThat(numbers.apply(p.question())).allSatisfy(n -> assertThat(n).isBetween(2, 20));
      assertThat(numbers.apply(p.ncot())).allSatisfy(n -> assertThat(n).isBetween(0, 100));
    }
  }
}
