package dev.reft.learner.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.reft.learner.train.SftTrainer;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.sampling.SamplingParams;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import dev.reft.policy.train.AdamW;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.Outcome;
import dev.reft.tasks.Answers;
import dev.reft.tasks.Grade;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Held-out evaluation: the voting rule on hand-made grades, the path-choice share, and greedy outcomes and
 * voting accuracy of a real (briefly fine-tuned) tiny model recounted here sample by sample.
 */
class EvaluatorTest {

  private static Grade answer(String extracted, Outcome outcome) {
    return Grade.of(outcome, extracted, null, 0);
  }

  private static Grade noAnswer() {
    return Grade.of(Outcome.NO_ANSWER, null, null, 0);
  }

  // --- the voting rule ---

  @Test
  void aTieGoesToTheAnswerSampledFirst() {
    Grade three = answer("3", Outcome.WRONG);
    Grade five = answer("5", Outcome.CORRECT);
    // 2 votes each: "3" appeared first
    assertThat(Evaluator.majority(List.of(three, five, five, answer("3", Outcome.WRONG)))).isSameAs(three);
    // the same votes, "5" first
    assertThat(Evaluator.majority(List.of(five, three, answer("3", Outcome.WRONG), answer("5", Outcome.CORRECT))))
        .isSameAs(five);
  }

  @Test
  void thePluralityWinsWithoutAnAbsoluteMajority() {
    Grade two = answer("2", Outcome.CORRECT);
    // 1, 2, 2, 3, 4: "2" has 2 of 5 votes
    assertThat(Evaluator.majority(List.of(answer("1", Outcome.WRONG), two, answer("2", Outcome.CORRECT),
        answer("3", Outcome.WRONG), answer("4", Outcome.WRONG)))).isSameAs(two);
    // a later answer overtakes an earlier one: 7, 5, 5
    Grade five = answer("5", Outcome.WRONG);
    assertThat(Evaluator.majority(List.of(answer("7", Outcome.CORRECT), five, answer("5", Outcome.WRONG))))
        .isSameAs(five);
  }

  @Test
  void numbersEqualWithinTheToleranceVoteTogether() {
    Grade five = answer("5", Outcome.CORRECT);
    // "5", "5.0", "5.00" are one answer with 3 votes; "7" has 2
    assertThat(Evaluator.majority(List.of(answer("7", Outcome.WRONG), answer("7", Outcome.WRONG), five,
        answer("5.0", Outcome.CORRECT), answer("5.00", Outcome.CORRECT)))).isSameAs(five);
    // 1/2 and 0.5 are the same number; 0.25 is not
    Grade half = answer("1/2", Outcome.CORRECT);
    assertThat(Evaluator.majority(List.of(answer("0.25", Outcome.WRONG), half, answer("0.5", Outcome.CORRECT))))
        .isSameAs(half);
    // thousands separators: 1,000 and 1000 vote together against two 999s
    Grade thousand = answer("1,000", Outcome.CORRECT);
    assertThat(Evaluator.majority(List.of(answer("999", Outcome.WRONG), answer("999", Outcome.WRONG), thousand,
        answer("1000", Outcome.CORRECT), answer("1000.0", Outcome.CORRECT)))).isSameAs(thousand);
  }

  @Test
  void lettersVoteTogetherWhateverTheirCase() {
    Grade b = answer("b", Outcome.CORRECT);
    assertThat(Evaluator.majority(List.of(answer("a", Outcome.WRONG), b, answer("B", Outcome.CORRECT))))
        .isSameAs(b);
  }

  @Test
  void samplesWithoutAnAnswerDoNotVote() {
    Grade four = answer("4", Outcome.CORRECT);
    // three samples without an answer and one with: the one answer wins
    assertThat(Evaluator.majority(List.of(noAnswer(), noAnswer(), four, noAnswer()))).isSameAs(four);
    // an execution error extracts nothing either
    assertThat(Evaluator.majority(List.of(Grade.of(Outcome.EXEC_ERROR, null, "NameError", 0), four)))
        .isSameAs(four);
    // nobody answered: no majority (the problem counts as wrong)
    assertThat(Evaluator.majority(List.of(noAnswer(), noAnswer()))).isNull();
    assertThat(Evaluator.majority(List.of())).isNull();
  }

  // --- path choices ---

  @Test
  void cheapestShareIsCheapestOverChainsThatTookAPath() {
    Evaluator.PathChoices p = new Evaluator.PathChoices(3, 1, 6);
    assertThat(p.total()).isEqualTo(10);
    assertThat(p.cheapestShare()).isCloseTo(0.75, within(1e-12)); // 3 / (3 + 1): unmatched chains do not count
    assertThat(new Evaluator.PathChoices(0, 2, 0).cheapestShare()).isZero();
    assertThat(new Evaluator.PathChoices(0, 0, 4).cheapestShare()).as("no chain took a path").isNull();
    assertThat(new Evaluator.PathChoices(0, 0, 0).cheapestShare()).isNull();
  }

  // --- a real model, recounted ---

  private static final int MAX_NEW_TOKENS = 12;
  private static final int K = 3;
  private static final long SEED = 2024;

  /**
   * The greedy outcomes and the voting accuracy of {@code evaluate} (which decodes the problems in batches)
   * equal a recount here: each problem decoded alone, graded with the text grader, and its K votes counted by the
   * rule (numbers by value, a tie to the answer sampled first, no answer no vote). The model is fine-tuned for a
   * few steps so that its answers are a mix of right, wrong and none.
   */
  @Test
  void greedyOutcomesAndVotingAccuracyMatchARecount() {
    List<Problem> problems = List.of(
        new Problem("t0", "test", "Tom has 3 apples.", "3", null, CotStyle.NCOT, 0),
        new Problem("t1", "test", "Sam has 5 pears.", "5", null, CotStyle.NCOT, 0),
        new Problem("t2", "test", "Ann has 2 figs.", "2", null, CotStyle.NCOT, 0),
        new Problem("t3", "test", "Bob has 4 nuts.", "4", null, CotStyle.NCOT, 0));
    // What the model is taught to say for each question (several targets: a distribution to sample from).
    Map<Integer, List<String>> taught = Map.of(
        0, List.of(Prompts.ANSWER_STATEMENT + "3"),
        1, List.of(Prompts.ANSWER_STATEMENT + "6", Prompts.ANSWER_STATEMENT + "5"),
        2, List.of("I do not know."),
        3, List.of(Prompts.ANSWER_STATEMENT + "4", "I do not know.", Prompts.ANSWER_STATEMENT + "4.0"));
    List<String> corpus = new ArrayList<>();
    for (Problem p : problems) {
      corpus.add(Prompts.prompt(CotStyle.NCOT, p.question()));
    }
    taught.values().forEach(corpus::addAll);
    corpus.add("0123456789.");
    try (PolicyTokenizer tokenizer = TokenizerBuilder.builder().build(corpus);
        PolicyModel model = PolicyModel.create(ModelConfig.tiny(tokenizer.vocabSize()), 9);
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(3e-3).build()) {
      List<SftTrainer.Example> examples = new ArrayList<>();
      for (int i = 0; i < problems.size(); i++) {
        int[] prompt = tokenizer.encodePrompt(Prompts.prompt(CotStyle.NCOT, problems.get(i).question()));
        for (String target : taught.get(i)) {
          int[] body = tokenizer.encode(target);
          int[] withEos = java.util.Arrays.copyOf(body, body.length + 1);
          withEos[body.length] = tokenizer.eos();
          examples.add(new SftTrainer.Example(prompt, withEos));
        }
      }
      SftTrainer trainer = new SftTrainer(model, optimizer, new SftTrainer.Schedule(3e-3, 0, 1_000_000), 1.0,
          tokenizer.pad());
      for (int step = 0; step < 40; step++) {
        trainer.step(examples);
      }

      // batchSize 6 with K = 3: greedy decodes all four problems in one batch, voting two problems per batch
      Evaluator evaluator = new Evaluator(tokenizer, Grader.textOnly(), 6, MAX_NEW_TOKENS);
      Evaluator.Result result = evaluator.evaluate(model, problems, CotStyle.NCOT, K, SEED, done -> { });

      // The recount, one problem at a time.
      Grader grader = Grader.textOnly();
      Sampler sampler = new Sampler(model, tokenizer.eos(), tokenizer.pad());
      Map<Outcome, Long> greedyOutcomes = new EnumMap<>(Outcome.class);
      int votedCorrect = 0;
      List<String> votingSamples = new ArrayList<>();
      for (int i = 0; i < problems.size(); i++) {
        Problem p = problems.get(i);
        int[] prompt = tokenizer.encodePrompt(Prompts.prompt(CotStyle.NCOT, p.question()));
        Sample greedy = sampler.greedy(List.of(prompt), MAX_NEW_TOKENS).get(0);
        Grade g = grader.grade(CotStyle.NCOT, p.question(), tokenizer.decode(greedy.tokens()), p.goldAnswer());
        greedyOutcomes.merge(g.outcome(), 1L, Long::sum);

        // sample s of problem i draws from the stream (seed + i, s), whatever else is in the batch
        List<int[]> prompts = new ArrayList<>();
        Rng[] rngs = new Rng[K];
        for (int s = 0; s < K; s++) {
          prompts.add(prompt);
          rngs[s] = Rng.stream(SEED + i, s);
        }
        List<Sample> samples = sampler.generate(prompts, SamplingParams.reft(MAX_NEW_TOKENS), rngs);
        // votes by numeric value, in order of first appearance; the first answer to reach the top count wins
        Map<BigDecimal, Integer> votes = new LinkedHashMap<>();
        Map<BigDecimal, Boolean> right = new LinkedHashMap<>();
        for (Sample s : samples) {
          String text = tokenizer.decode(s.tokens());
          votingSamples.add(text);
          Grade vote = grader.grade(CotStyle.NCOT, p.question(), text, p.goldAnswer());
          if (vote.extractedAnswer() == null) {
            continue;
          }
          BigDecimal value = Answers.parseNumber(vote.extractedAnswer()).orElseThrow().stripTrailingZeros();
          votes.merge(value, 1, Integer::sum);
          right.putIfAbsent(value, value.compareTo(new BigDecimal(p.goldAnswer())) == 0);
        }
        int top = votes.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        BigDecimal winner = votes.entrySet().stream().filter(e -> e.getValue() == top).map(Map.Entry::getKey)
            .findFirst().orElse(null);
        votedCorrect += winner != null && right.get(winner) ? 1 : 0;
      }

      // Not vacuous: greedy decoding produced more than one kind of outcome.
      assertThat(greedyOutcomes).as("greedy outcomes of the fine-tuned model; voting samples %s", votingSamples)
          .hasSizeGreaterThan(1);

      assertThat(result.problems()).isEqualTo(4);
      assertThat(result.outcomes()).isEqualTo(greedyOutcomes);
      assertThat(result.outcomes().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(4);
      assertThat(result.greedyAccuracy())
          .isCloseTo(greedyOutcomes.getOrDefault(Outcome.CORRECT, 0L) / 4.0, within(1e-12));
      assertThat(result.votingK()).isEqualTo(K);
      assertThat(result.votingAccuracy()).as("voting samples %s", votingSamples)
          .isCloseTo(votedCorrect / 4.0, within(1e-12));
      assertThat(result.paths().total()).as("no problem here knows its paths").isZero();
      assertThat(result.paths().cheapestShare()).isNull();
    }
  }
}
