package dev.reft.learner.eval;

import dev.reft.policy.PolicyModel;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.sampling.SamplingParams;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.Outcome;
import dev.reft.tasks.Answers;
import dev.reft.tasks.Grade;
import dev.reft.tasks.Grader;
import dev.reft.tasks.Problem;
import dev.reft.tasks.SolutionPaths;
import dev.reft.tasks.Prompts;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntConsumer;

/**
 * Held-out accuracy of a policy, as the paper reports it: greedy top-1 accuracy, and accuracy of the
 * majority answer over K samples at temperature 1 (voting@K; answers equal within the grading tolerance vote
 * together, a tie goes to the answer sampled first, samples without an answer do not vote). Answers are graded
 * with the ReFT reward rule of {@code tasks} (P-CoT programs run in the sandbox). Where the problems know their
 * solution paths, it also counts which kind of path each greedy chain took.
 */
public final class Evaluator {

  private final PolicyTokenizer tokenizer;
  private final Grader grader;
  private final int batchSize;
  private final int maxNewTokens;

  /**
   * @param batchSize prompts decoded together
   * @param maxNewTokens generation budget per answer
   */
  public Evaluator(PolicyTokenizer tokenizer, Grader grader, int batchSize, int maxNewTokens) {
    this.tokenizer = tokenizer;
    this.grader = grader;
    this.batchSize = batchSize;
    this.maxNewTokens = maxNewTokens;
  }

  /**
   * What an evaluation found.
   *
   * @param problems number of problems
   * @param greedyAccuracy share answered correctly by greedy decoding
   * @param outcomes greedy outcomes
   * @param accuracyByDifficulty greedy accuracy per {@code steps=N} slice (synthetic data), else empty
   * @param meanResponseLength mean greedy response length in tokens
   * @param votingK samples per problem for voting (0: not run)
   * @param votingAccuracy share whose majority answer is correct, or null
   * @param paths which path the greedy chains took on the problems with a choice of paths of different cost
   *     (see {@link SolutionPaths}); all zero when no problem has one (real data sets)
   */
  public record Result(int problems, double greedyAccuracy, Map<Outcome, Long> outcomes,
      Map<String, Double> accuracyByDifficulty, double meanResponseLength, int votingK, Double votingAccuracy,
      PathChoices paths) {}

  /**
   * Greedy chains on problems with a choice of paths, by the path they took.
   *
   * @param cheapest chains that follow a cheapest path
   * @param costlier chains that follow a costlier path
   * @param unmatched chains that follow no path, or a step shared by both kinds before a slip
   */
  public record PathChoices(long cheapest, long costlier, long unmatched) {

    /** Problems with a choice. */
    public long total() {
      return cheapest + costlier + unmatched;
    }

    /** The path-choice measure: cheapest / (cheapest + costlier), or null when no chain took a path. */
    public Double cheapestShare() {
      return cheapest + costlier == 0 ? null : cheapest / (double) (cheapest + costlier);
    }
  }

  /**
   * Evaluates a model.
   *
   * @param votingK samples per problem for majority voting; 0 skips voting
   * @param seed seed of the voting samples
   * @param progress told the number of problems done so far (greedy, then voting)
   */
  public Result evaluate(PolicyModel model, List<Problem> problems, CotStyle style, int votingK, long seed,
      IntConsumer progress) {
    Sampler sampler = new Sampler(model, tokenizer.eos(), tokenizer.pad());
    Map<Outcome, Long> outcomes = new EnumMap<>(Outcome.class);
    Map<Integer, int[]> byDifficulty = new TreeMap<>();
    Map<SolutionPaths.Choice, Long> choices = new EnumMap<>(SolutionPaths.Choice.class);
    int correct = 0;
    long responseTokens = 0;
    for (int from = 0; from < problems.size(); from += batchSize) {
      List<Problem> chunk = problems.subList(from, Math.min(problems.size(), from + batchSize));
      List<Sample> samples = sampler.greedy(prompts(chunk, style), maxNewTokens);
      for (int i = 0; i < chunk.size(); i++) {
        Problem p = chunk.get(i);
        String text = tokenizer.decode(samples.get(i).tokens());
        Grade g = grader.grade(style, p.question(), text, p.goldAnswer());
        outcomes.merge(g.outcome(), 1L, Long::sum);
        if (p.paths() != null && p.paths().hasChoice()) {
          choices.merge(p.paths().classify(style, text), 1L, Long::sum);
        }
        responseTokens += samples.get(i).length();
        boolean ok = g.outcome() == Outcome.CORRECT;
        correct += ok ? 1 : 0;
        if (p.difficulty() > 0) {
          int[] c = byDifficulty.computeIfAbsent(p.difficulty(), d -> new int[2]);
          c[0] += ok ? 1 : 0;
          c[1]++;
        }
      }
      progress.accept(from + chunk.size());
    }
    Map<String, Double> accuracyByDifficulty = new LinkedHashMap<>();
    byDifficulty.forEach((d, c) -> accuracyByDifficulty.put("steps=" + d, c[0] / (double) c[1]));
    Double voting = votingK > 0 ? voting(sampler, problems, style, votingK, seed, progress) : null;
    int n = Math.max(1, problems.size());
    PathChoices paths = new PathChoices(choices.getOrDefault(SolutionPaths.Choice.CHEAPEST, 0L),
        choices.getOrDefault(SolutionPaths.Choice.COSTLIER, 0L), choices.getOrDefault(SolutionPaths.Choice.UNMATCHED, 0L));
    return new Result(problems.size(), correct / (double) n, outcomes, accuracyByDifficulty,
        responseTokens / (double) n, votingK, voting, paths);
  }

  /** Accuracy of the majority answer of K samples per problem. */
  private double voting(Sampler sampler, List<Problem> problems, CotStyle style, int k, long seed, IntConsumer progress) {
    int correct = 0;
    int perBatch = Math.max(1, batchSize / k);
    SamplingParams params = SamplingParams.reft(maxNewTokens);
    for (int from = 0; from < problems.size(); from += perBatch) {
      List<Problem> chunk = problems.subList(from, Math.min(problems.size(), from + perBatch));
      List<int[]> prompts = new ArrayList<>();
      Rng[] rngs = new Rng[chunk.size() * k];
      List<int[]> single = prompts(chunk, style);
      for (int i = 0; i < chunk.size(); i++) {
        for (int s = 0; s < k; s++) {
          prompts.add(single.get(i));
          rngs[i * k + s] = Rng.stream(seed + from + i, s);
        }
      }
      List<Sample> samples = sampler.generate(prompts, params, rngs);
      for (int i = 0; i < chunk.size(); i++) {
        Problem p = chunk.get(i);
        List<Grade> grades = new ArrayList<>(k);
        for (int s = 0; s < k; s++) {
          grades.add(grade(p, style, samples.get(i * k + s)));
        }
        Grade majority = majority(grades);
        correct += majority != null && majority.outcome() == Outcome.CORRECT ? 1 : 0;
      }
      progress.accept(problems.size() + from + chunk.size());
    }
    return correct / (double) Math.max(1, problems.size());
  }

  /**
   * The majority answer of one problem's samples, as the grade of the first sample that gave it: answers equal
   * after {@link #normalise} vote together, a tie goes to the answer sampled first, samples without an answer do
   * not vote.
   *
   * @param grades the grades of the K samples, in sampling order
   * @return the first grade carrying the majority answer, or null when no sample has an answer
   */
  static Grade majority(List<Grade> grades) {
    // In the order answers first appear, so a tie goes to the answer sampled first.
    Map<String, Integer> votes = new LinkedHashMap<>();
    Map<String, Grade> first = new HashMap<>();
    for (Grade g : grades) {
      if (g.extractedAnswer() == null) {
        continue;
      }
      String answer = normalise(g.extractedAnswer());
      votes.merge(answer, 1, Integer::sum);
      first.putIfAbsent(answer, g);
    }
    String majority = null;
    for (Map.Entry<String, Integer> v : votes.entrySet()) {
      if (majority == null || v.getValue() > votes.get(majority)) {
        majority = v.getKey();
      }
    }
    return majority == null ? null : first.get(majority);
  }

  private Grade grade(Problem p, CotStyle style, Sample s) {
    return grader.grade(style, p.question(), tokenizer.decode(s.tokens()), p.goldAnswer());
  }

  private List<int[]> prompts(List<Problem> problems, CotStyle style) {
    List<int[]> out = new ArrayList<>(problems.size());
    for (Problem p : problems) {
      out.add(promptIds(tokenizer, style, p.question()));
    }
    return out;
  }

  /** BOS + the task's prompt: the exact ids the samplers feed the model. */
  public static int[] promptIds(PolicyTokenizer tokenizer, CotStyle style, String question) {
    return tokenizer.encodePrompt(Prompts.prompt(style, question));
  }

  /** Numbers equal within the grading tolerance vote together; letters by lower case. */
  private static String normalise(String answer) {
    return Answers.parseNumber(answer)
        .map(n -> n.setScale(2, java.math.RoundingMode.HALF_UP).stripTrailingZeros().toPlainString())
        .orElse(answer.strip().toLowerCase(Locale.ROOT));
  }
}
