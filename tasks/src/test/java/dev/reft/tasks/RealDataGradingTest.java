package dev.reft.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.CotStyle;
import dev.reft.schemas.Outcome;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The ReFT authors' own annotations, graded by this project's reward rule against their own answers. */
class RealDataGradingTest {

  private static PythonSandbox sandbox;

  @BeforeAll
  static void startSandbox() {
    sandbox = PythonSandbox.start(SandboxConfig.defaults());
  }

  @AfterAll
  static void closeSandbox() {
    sandbox.close();
  }

  @Test
  void everySvampProgramReturnsItsOwnAnswer() throws Exception {
    List<Problem> problems = Datasets.read(RepoData.file("reft/svamp_python_sdp.json"));
    assertThat(problems).hasSize(3043).allSatisfy(p -> assertThat(p.style()).isEqualTo(CotStyle.PCOT));
    Grader grader = new Grader(sandbox);
    List<String> failures = new ArrayList<>();
    // Several callers at once, as the reward service does.
    ExecutorService callers = Executors.newFixedThreadPool(4);
    try {
      List<Future<Grade>> grades = new ArrayList<>();
      for (Problem p : problems) {
        grades.add(callers.submit(() -> grader.grade(CotStyle.PCOT, p.question(), Prompts.target(p), p.goldAnswer())));
      }
      for (int i = 0; i < problems.size(); i++) {
        Grade g = grades.get(i).get();
        if (!g.correct()) {
          failures.add(problems.get(i).id() + ": " + g);
        }
        assertThat(g.reward()).isEqualTo(g.correct() ? 1.0f : g.outcome() == Outcome.WRONG ? 0.1f : 0.0f);
      }
    } finally {
      callers.shutdownNow();
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void svampNaturalLanguageAnnotationsScoreCorrectExceptTheTwoJunkOnes() {
    List<Problem> problems = Datasets.read(RepoData.file("reft/svamp_nl.json"));
    assertThat(problems).hasSize(3076);
    Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
    List<String> notCorrect = new ArrayList<>();
    for (Problem p : problems) {
      Grade raw = Grader.textOnly().grade(CotStyle.NCOT, p.question(), p.cot(), p.goldAnswer());
      // SVAMP annotations already end with their answer statement, which the SFT target keeps; the junk ones
      // get the gold statement appended, so every target teaches the gold answer.
      String target = Prompts.target(p);
      assertThat(Grader.textOnly().grade(CotStyle.NCOT, p.question(), target, p.goldAnswer()).correct()).isTrue();
      if (raw.correct()) {
        assertThat(target).isEqualTo(p.cot().stripTrailing());
      }
      counts.merge(raw.outcome(), 1, Integer::sum);
      if (!raw.correct()) {
        notCorrect.add(p.id() + " " + raw);
      }
    }
    assertThat(counts.getOrDefault(Outcome.CORRECT, 0)).as("not correct: %s", notCorrect).isGreaterThanOrEqualTo(3074);
    // The junk ones are wrong answers, not extraction failures.
    assertThat(counts.getOrDefault(Outcome.NO_ANSWER, 0)).isZero();
  }

  @Test
  void everyGsm8kGoldAnswerParsesAndItsTargetGradesCorrect() {
    List<Problem> problems = Datasets.read(RepoData.file("gsm8k/train.jsonl"));
    assertThat(problems).hasSize(7473);
    for (Problem p : problems) {
      assertThat(Answers.parseNumber(p.goldAnswer())).as(p.id()).isPresent();
      // The annotation as written ends with "#### N": graded as such, it is correct.
      assertThat(Grader.textOnly().grade(CotStyle.NCOT, p.question(), p.cot(), p.goldAnswer()).correct())
          .as(p.id()).isTrue();
      // The SFT target is clean: no calculator annotations, no "####", ends with the answer statement.
      String target = Prompts.target(p);
      assertThat(target).as(p.id()).doesNotContain("<<", ">>", "####");
      if (!target.endsWith("\nTherefore, the answer is: " + Answers.format(p.goldAnswer()))) {
        assertThat(Prompts.endsWithAnswerStatement(target, p.goldAnswer())).as(p.id() + ": " + target).isTrue();
      }
      assertThat(Grader.textOnly().grade(CotStyle.NCOT, p.question(), target, p.goldAnswer()).correct())
          .as(p.id()).isTrue();
    }
  }

  @Test
  void testSetsLoadWithoutAnnotations() {
    List<Problem> svamp = Datasets.read(RepoData.file("reft/svamp_test_set.json"));
    List<Problem> gsm8k = Datasets.read(RepoData.file("reft/gsm8k_test_set.json"));
    assertThat(svamp).hasSize(1000).allSatisfy(p -> assertThat(p.dataset()).isEqualTo("svamp"));
    assertThat(gsm8k).hasSize(1319).allSatisfy(p -> assertThat(p.dataset()).isEqualTo("gsm8k"));
    assertThat(svamp).noneMatch(Problem::hasCot);
    // MathQA: the same 1,605 problems as multiple choice (options in the question, a letter as answer) and
    // numeric (no options, the value as answer).
    List<Problem> mathqa = Datasets.read(RepoData.file("reft/mathqa_test_set.json"));
    List<Problem> numeric = Datasets.read(RepoData.file("reft/mathqa-numeric_test_set.json"));
    assertThat(mathqa).hasSize(1605).noneMatch(Problem::hasCot)
        .allSatisfy(p -> assertThat(p.style()).isEqualTo(CotStyle.MCQ))
        .allSatisfy(p -> assertThat(Answers.goldLetter(p.goldAnswer())).as(p.id()).isPresent());
    assertThat(numeric).hasSize(1605).noneMatch(Problem::hasCot)
        .allSatisfy(p -> assertThat(p.dataset()).isEqualTo("mathqa-numeric"))
        .allSatisfy(p -> assertThat(Answers.parseNumber(p.goldAnswer())).as(p.id()).isPresent());
    for (int i = 0; i < mathqa.size(); i++) {
      assertThat(mathqa.get(i).question()).as(mathqa.get(i).id()).startsWith(numeric.get(i).question());
    }
  }

  @Test
  void gsm8kTestJsonlHasTheAnswersOfTheReftTestSet() {
    List<Problem> jsonl = Datasets.read(RepoData.file("gsm8k/test.jsonl"));
    List<Problem> reft = Datasets.read(RepoData.file("reft/gsm8k_test_set.json"));
    assertThat(jsonl).hasSize(1319).allMatch(Problem::hasCot);
    assertThat(jsonl.stream().map(Problem::id).toList()).isEqualTo(reft.stream().map(Problem::id).toList());
    assertThat(jsonl.stream().map(Problem::goldAnswer).toList())
        .isEqualTo(reft.stream().map(Problem::goldAnswer).toList());
    for (Problem p : jsonl) {
      assertThat(Grader.textOnly().grade(CotStyle.NCOT, p.question(), Prompts.target(p), p.goldAnswer()).correct())
          .as(p.id()).isTrue();
    }
  }
}
