package dev.reft.tasks.synthetic;

import static dev.reft.tasks.synthetic.Draws.between;
import static dev.reft.tasks.synthetic.Draws.permutations;
import static dev.reft.tasks.synthetic.Draws.pick;
import static dev.reft.tasks.synthetic.Draws.stream;

import dev.reft.tasks.Prompts;
import dev.reft.tasks.SolutionPaths;
import dev.reft.tasks.synthetic.Lexicon.Container;
import dev.reft.tasks.synthetic.Lexicon.Item;
import dev.reft.tasks.synthetic.Lexicon.Person;
import dev.reft.tasks.synthetic.Lexicon.Theme;
import dev.reft.tasks.synthetic.Lexicon.Verb;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The default synthetic task ({@link SyntheticConfig.Task#PATHS}): problems where exploring pays.
 *
 * <p>Every problem is a story about one person's quantity of one item: a start ({@code Anna has 24 apples.} or
 * {@code Anna has 3 bags with 4 apples in each bag.}) and events that add or remove some ({@code She buys 9 more
 * apples.}, {@code She sells 2 boxes with 4 apples in each box.}). Most problems can be solved along several
 * valid chains of <em>different</em> cost ({@link SolutionPaths}: one per arithmetic step, one more per result
 * outside the practised range 0..maxResult):
 *
 * <ul>
 *   <li>{@value #CANCEL}: a gain and a loss of the same amount cancel out — one sentence and no arithmetic,
 *       against two steps;
 *   <li>{@value #DISTRIBUTE}: two group quantities with the same size per group — {@code (3 + 2) × 4} in two
 *       steps against {@code 3 × 4 + 2 × 4} in three;
 *   <li>{@value #ORDER}: a gain and a loss where the question's order leaves the practised range
 *       ({@code 24 + 9 = 33}) and the other order stays in it ({@code 24 - 9 = 15}, then {@code 15 + 9});
 *   <li>{@value #PLAIN}: every valid chain costs the same (the control: there is nothing to choose).
 * </ul>
 *
 * <p>The annotation shows one valid chain, chosen at random: a cheapest one half of the time, a costlier one the
 * other half. So supervised fine-tuning imitates both, and sampling finds the cheaper chains the annotation often
 * does not show — ReFT's mechanism. The training set also holds every single-step fact of the practised range
 * ({@value #FACT}: all sums, differences and group products with results in 1..maxResult, each once), so a
 * warmed-up model knows the steps and what remains hard is choosing and chaining them.
 *
 * <p>Annotations: N-CoT, one sentence per step ({@code Anna has 24 - 9 = 15 apples.}, {@code Anna buys 9 apples
 * and eats 9 apples, so they cancel out.}, {@code Anna has 3 + 2 = 5 groups of 4 apples.}) then
 * {@code Therefore, the answer is: N}; P-CoT, the question's numbers as named variables, one line per step
 * ({@code total = apples - eaten}, {@code # bought and eaten cancel out}, {@code groups = bags + boxes}),
 * {@code result = ...}, {@code return result}.
 *
 * <p>Difficulty ({@link SyntheticProblem#steps()}) is the number of arithmetic steps of the step-by-step chain
 * (no shortcut): 1 for facts, {@code minSteps..maxSteps} for the rest of training and the test split,
 * {@code hardSteps} for the hard slice. Each family is drawn with equal probability (a family that needs more
 * steps than a split allows is skipped there).
 */
final class PathsTask {

  static final String FACT = "fact";
  static final String PLAIN = "plain";
  static final String CANCEL = "cancel";
  static final String DISTRIBUTE = "distribute";
  static final String ORDER = "order";
  private static final List<String> FAMILIES = List.of(PLAIN, CANCEL, DISTRIBUTE, ORDER);

  private static final long TEST_STREAM = 0x7E58L;
  private static final long HARD_STREAM = 0x4A2EL;
  private static final long TRAIN_STREAM = 0x7EA2L;
  private static final long FACT_STREAM = 0xFAC7L;
  private static final int ATTEMPTS_PER_PROBLEM = 2_000;
  /** Share of annotations that show a cheapest chain (the rest show a costlier one, where there is one). */
  private static final double CHEAPEST_ANNOTATION_SHARE = 0.5;
  private static final double LOSS_PROBABILITY = 0.4;

  private PathsTask() {}

  static SyntheticData generate(SyntheticConfig config) {
    Set<String> seen = new HashSet<>();
    List<SyntheticProblem> test = split("test", config.testSize(), 0, stream(config.seed(), TEST_STREAM), config,
        seen, config.minSteps(), config.maxSteps());
    List<SyntheticProblem> hard = split("hard", config.hardTestSize(), 0, stream(config.seed(), HARD_STREAM), config,
        seen, config.hardSteps(), config.hardSteps());
    List<SyntheticProblem> train = new ArrayList<>(facts(config, seen, stream(config.seed(), FACT_STREAM)));
    train.addAll(split("train", config.trainSize(), train.size(), stream(config.seed(), TRAIN_STREAM), config, seen,
        config.minSteps(), config.maxSteps()));
    return new SyntheticData(config, train, test, hard);
  }


  private static List<SyntheticProblem> split(String name, int size, int firstIndex, Random rng,
      SyntheticConfig config, Set<String> seen, int minSteps, int maxSteps) {
    List<SyntheticProblem> out = new ArrayList<>(size);
    int misses = 0;
    while (out.size() < size) {
      String family = FAMILIES.get(rng.nextInt(FAMILIES.size()));
      List<Integer> feasible = new ArrayList<>();
      for (int k = Math.max(minSteps, minSteps(family)); k <= maxSteps; k++) {
        feasible.add(k);
      }
      Story story = feasible.isEmpty() ? null : draw(rng, family, feasible.get(rng.nextInt(feasible.size())), config);
      if (story == null || !seen.add(story.question())) {
        if (++misses > ATTEMPTS_PER_PROBLEM * Math.max(1, size)) {
          throw new IllegalStateException("could only generate " + out.size() + " distinct " + name + " problems with "
              + config);
        }
        continue;
      }
      out.add(story.annotate("synthetic_" + name + "_" + (firstIndex + out.size()), family, rng));
    }
    return out;
  }

  /** Fewest step-by-step steps a family needs. */
  private static int minSteps(String family) {
    return DISTRIBUTE.equals(family) ? 3 : 2;
  }

  // ------------------------------------------------------------------------------------------------------------
  // The model of a story and its solution paths.
  // ------------------------------------------------------------------------------------------------------------

  private enum Kind { START, GAIN, LOSS }

  /** One quantity of the story, in question order; a group quantity takes a multiplication. */
  private record Term(int index, Kind kind, Verb verb, Container container, int count, int groups, int perGroup,
      String var) {

    boolean isGroup() {
      return container != null;
    }

    int sign() {
      return kind == Kind.LOSS ? -1 : 1;
    }

    int value() {
      return isGroup() ? groups * perGroup : count;
    }

    String perGroupVar() {
      return "per_" + container.singular();
    }
  }

  /** A step of a solution path. */
  private sealed interface Move permits Product, Combine, Cancel, GroupSum, GroupProduct {}

  /** Works out a group quantity: {@code groups * perGroup}. */
  private record Product(Term term) implements Move {}

  /** Adds or subtracts an event's quantity to the running total. */
  private record Combine(Term term) implements Move {}

  /** A gain and a loss of the same amount cancel out. */
  private record Cancel(Term gain, Term loss) implements Move {}

  /** Distributive shortcut, first half: the start's groups plus or minus the event's groups. */
  private record GroupSum(Term start, Term event) implements Move {}

  /** Distributive shortcut, second half: the groups times the shared size. */
  private record GroupProduct(Term start, Term event) implements Move {}

  /** A worked path: its steps, cost and both annotations. */
  private record Worked(SolutionPaths.Path path, long answer) {}

  /** A complete problem before annotation. */
  private record Story(SyntheticConfig config, Item item, Person owner, List<Term> terms) {

    Term start() {
      return terms.get(0);
    }

    List<Term> events() {
      return terms.subList(1, terms.size());
    }

    /** Arithmetic steps of the step-by-step chain: one per event and one per group. */
    int steps() {
      return events().size() + (int) terms.stream().filter(Term::isGroup).count();
    }

    String question() {
      StringBuilder q = new StringBuilder();
      String noun = item.noun();
      for (Term t : terms) {
        q.append(t.kind() == Kind.START ? owner.name() + " has " : owner.pronoun() + " " + t.verb().text() + " ");
        if (t.isGroup()) {
          q.append(t.groups()).append(' ').append(t.container().plural()).append(" with ").append(t.perGroup())
              .append(' ').append(noun).append(" in each ").append(t.container().singular());
        } else {
          q.append(t.count()).append(t.kind() == Kind.GAIN ? " more " : " ").append(noun);
        }
        q.append(". ");
      }
      q.append("How many ").append(noun).append(" does ").append(owner.name())
          .append(events().isEmpty() ? " have?" : " have now?");
      return q.toString();
    }

    /** Every valid path, worked out. */
    List<Worked> paths() {
      List<List<Move>> moves = new ArrayList<>();
      Term start = start();
      List<Term> events = events();
      sequential(start, !start.isGroup(), events, moves);
      for (Term gain : events) {
        for (Term loss : events) {
          if (gain.kind() == Kind.GAIN && loss.kind() == Kind.LOSS && !gain.isGroup() && !loss.isGroup()
              && gain.count() == loss.count()) {
            List<Term> rest = new ArrayList<>(events);
            rest.remove(gain);
            rest.remove(loss);
            List<List<Move>> tails = new ArrayList<>();
            sequential(start, !start.isGroup(), rest, tails);
            for (List<Move> tail : tails) {
              for (int at = 0; at <= tail.size(); at++) {
                List<Move> m = new ArrayList<>(tail);
                m.add(at, new Cancel(gain, loss));
                moves.add(m);
              }
            }
          }
        }
      }
      if (start.isGroup()) {
        for (Term e : events) {
          if (e.isGroup() && e.perGroup() == start.perGroup()) {
            List<Term> rest = new ArrayList<>(events);
            rest.remove(e);
            List<List<Move>> tails = new ArrayList<>();
            sequential(start, true, rest, tails);
            for (List<Move> tail : tails) {
              List<Move> m = new ArrayList<>(List.of(new GroupSum(start, e), new GroupProduct(start, e)));
              m.addAll(tail);
              moves.add(m);
            }
          }
        }
      }
      List<Worked> out = new ArrayList<>();
      for (List<Move> m : moves) {
        Worked w = work(m);
        if (w != null) {
          out.add(w);
        }
      }
      return out;
    }

    /**
     * Step-by-step paths: the events combined in every order, each group's product at any point before it is
     * used.
     */
    private void sequential(Term start, boolean startDone, List<Term> events, List<List<Move>> out) {
      for (List<Term> order : permutations(events)) {
        interleave(start, startDone, order, 0, new ArrayList<>(), new ArrayList<>(), out);
      }
    }

    private void interleave(Term start, boolean startDone, List<Term> order, int next, List<Term> productsDone,
        List<Move> prefix, List<List<Move>> out) {
      List<Term> pending = new ArrayList<>();
      if (!startDone && !productsDone.contains(start)) {
        pending.add(start);
      }
      for (Term t : order) {
        if (t.isGroup() && !productsDone.contains(t)) {
          pending.add(t);
        }
      }
      if (next == order.size() && pending.isEmpty()) {
        out.add(List.copyOf(prefix));
        return;
      }
      for (Term t : pending) {
        productsDone.add(t);
        prefix.add(new Product(t));
        interleave(start, startDone, order, next, productsDone, prefix, out);
        prefix.remove(prefix.size() - 1);
        productsDone.remove(productsDone.size() - 1);
      }
      if (next < order.size()) {
        Term t = order.get(next);
        boolean startReady = startDone || productsDone.contains(start);
        if (startReady && (!t.isGroup() || productsDone.contains(t))) {
          prefix.add(new Combine(t));
          interleave(start, startDone, order, next + 1, productsDone, prefix, out);
          prefix.remove(prefix.size() - 1);
        }
      }
    }

    /** Works a path through, or returns null when a running total leaves 0..2·maxResult or a group sum is < 2. */
    private Worked work(List<Move> moves) {
      int range = config.maxResult();
      String noun = item.noun();
      String name = owner.name();
      Term start = start();
      List<SolutionPaths.Step> steps = new ArrayList<>();
      List<String> sentences = new ArrayList<>();
      List<String> code = new ArrayList<>();
      long total = start.value();
      String totalVar = start.var();
      int cost = 0;
      for (Move move : moves) {
        String expression;
        long result;
        if (move instanceof Product p) {
          Term t = p.term();
          result = t.value();
          expression = t.groups() + " * " + t.perGroup();
          String subject = t.kind() == Kind.START ? name + " has" : name + " " + t.verb().text();
          sentences.add(subject + " " + expression + " = " + result + " " + noun + ".");
          code.add(t.var() + " = " + t.container().plural() + " * " + t.perGroupVar());
        } else if (move instanceof Combine c) {
          Term t = c.term();
          String op = t.sign() > 0 ? "+" : "-";
          expression = total + " " + op + " " + t.value();
          result = total + (long) t.sign() * t.value();
          if (result < 0 || result > 2L * range) {
            return null;
          }
          sentences.add(name + " has " + expression + " = " + result + " " + noun + ".");
          code.add("total = " + totalVar + " " + op + " " + t.var());
          total = result;
          totalVar = "total";
        } else if (move instanceof Cancel c) {
          Term first = c.gain().index() < c.loss().index() ? c.gain() : c.loss();
          Term second = first == c.gain() ? c.loss() : c.gain();
          expression = SolutionPaths.CANCEL;
          result = total;
          sentences.add(name + " " + first.verb().text() + " " + first.count() + " " + noun + " and "
              + second.verb().text() + " " + second.count() + " " + noun + ", so they cancel out.");
          code.add("# " + first.var() + " and " + second.var() + " cancel out");
        } else if (move instanceof GroupSum g) {
          String op = g.event().sign() > 0 ? "+" : "-";
          expression = g.start().groups() + " " + op + " " + g.event().groups();
          result = g.start().groups() + (long) g.event().sign() * g.event().groups();
          if (result < 2) {
            return null;
          }
          sentences.add(name + " has " + expression + " = " + result + " groups of " + g.start().perGroup() + " "
              + noun + ".");
          code.add("groups = " + g.start().container().plural() + " " + op + " " + g.event().container().plural());
        } else {
          GroupProduct g = (GroupProduct) move;
          long groups = g.start().groups() + (long) g.event().sign() * g.event().groups();
          expression = groups + " * " + g.start().perGroup();
          result = groups * g.start().perGroup();
          sentences.add(name + " has " + expression + " = " + result + " " + noun + ".");
          code.add("total = groups * " + g.start().perGroupVar());
          total = result;
          totalVar = "total";
        }
        if (!(move instanceof Cancel)) {
          cost += 1 + (result > range ? 1 : 0);
        }
        steps.add(new SolutionPaths.Step(expression, result, code.get(code.size() - 1)));
      }
      List<String> body = new ArrayList<>(definitions());
      body.addAll(code);
      body.add("result = " + (code.stream().anyMatch(l -> l.startsWith("total = ")) ? "total" : start.var()));
      body.add("return result");
      String ncot = String.join("\n", sentences) + "\n" + Prompts.ANSWER_STATEMENT + total;
      String pcot = Prompts.programHeader(question()) + "    " + String.join("\n    ", body);
      return new Worked(new SolutionPaths.Path(steps, cost, ncot, pcot), total);
    }

    /** The problem with one path, chosen at random, as its annotation. */
    SyntheticProblem annotate(String id, String family, Random rng) {
      List<Worked> paths = paths();
      SolutionPaths solution = new SolutionPaths(paths.stream().map(Worked::path).toList());
      int min = solution.cheapestCost();
      List<Integer> cheap = new ArrayList<>();
      List<Integer> costly = new ArrayList<>();
      for (int i = 0; i < paths.size(); i++) {
        (paths.get(i).path().cost() == min ? cheap : costly).add(i);
      }
      List<Integer> pool = costly.isEmpty() || rng.nextDouble() < CHEAPEST_ANNOTATION_SHARE ? cheap : costly;
      int chosen = pool.get(rng.nextInt(pool.size()));
      Worked w = paths.get(chosen);
      return new SyntheticProblem(id, question(), w.answer(), steps(), paths.size(), w.path().ncot(), w.path().pcot(),
          family, solution, chosen);
    }

    /** P-CoT: one variable per number of the question, in question order. */
    private List<String> definitions() {
      List<String> out = new ArrayList<>();
      for (Term t : terms) {
        if (t.isGroup()) {
          out.add(t.container().plural() + " = " + t.groups());
          out.add(t.perGroupVar() + " = " + t.perGroup());
        } else {
          out.add(t.var() + " = " + t.count());
        }
      }
      return out;
    }

    /** Whether the story fits a family (see the class description); every family needs an in-range cheapest path. */
    boolean fits(String family) {
      List<Worked> paths = paths();
      if (paths.isEmpty()) {
        return false;
      }
      SolutionPaths solution = new SolutionPaths(paths.stream().map(Worked::path).toList());
      int min = solution.cheapestCost();
      boolean inRange = paths.stream().filter(w -> w.path().cost() == min)
          .allMatch(w -> w.path().steps().stream().allMatch(s -> s.result() <= config.maxResult()));
      long answer = paths.get(0).answer();
      if (!inRange || answer < 1 || answer > config.maxResult()) {
        return false;
      }
      boolean cancels = paths.stream().anyMatch(w -> w.path().steps().stream()
          .anyMatch(s -> s.expression().equals(SolutionPaths.CANCEL)));
      boolean sharedGroupSize = start().isGroup()
          && events().stream().anyMatch(e -> e.isGroup() && e.perGroup() == start().perGroup());
      boolean distributes = paths.stream().anyMatch(w -> w.path().steps().stream()
          .anyMatch(s -> s.code().startsWith("groups = ")));
      return switch (family) {
        case CANCEL -> cancels && !distributes;
        case DISTRIBUTE -> distributes && !cancels;
        case ORDER -> !cancels && !sharedGroupSize && solution.hasChoice();
        case PLAIN, FACT -> !cancels && !sharedGroupSize && !solution.hasChoice();
        default -> throw new IllegalArgumentException(family);
      };
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Drawing stories.
  // ------------------------------------------------------------------------------------------------------------

  /** Draws a story of a family with {@code steps} step-by-step steps, or null if this attempt failed. */
  private static Story draw(Random rng, String family, int steps, SyntheticConfig config) {
    for (int attempt = 0; attempt < ATTEMPTS_PER_PROBLEM; attempt++) {
      // groups: how many terms are group quantities; events: gains and losses after the start.
      int groups = switch (family) {
        case DISTRIBUTE -> 2;
        case CANCEL, ORDER -> rng.nextInt(Math.min(2, steps - 2) + 1);
        default -> rng.nextInt(Math.min(2, steps - 1) + 1);
      };
      int events = steps - groups;
      if (events < 1 || events > 3 || groups > events + 1) {
        continue;
      }
      Story s = story(rng, family, events, groups, config);
      if (s != null && s.steps() == steps && s.fits(family)) {
        return s;
      }
    }
    return null;
  }

  private static Story story(Random rng, String family, int events, int groups, SyntheticConfig config) {
    Theme theme = pick(rng, Lexicon.THEMES);
    Item item = pick(rng, theme.items());
    Person owner = pick(rng, Lexicon.PEOPLE);
    Set<Integer> groupTerms = new HashSet<>();
    if (DISTRIBUTE.equals(family)) {
      groupTerms.add(0);
      groupTerms.add(1 + rng.nextInt(events));
    } else {
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i <= events; i++) {
        all.add(i);
      }
      for (int i = 0; i < groups; i++) {
        groupTerms.add(all.remove(rng.nextInt(all.size())));
      }
    }
    List<Container> containers = new ArrayList<>(theme.containers());
    List<Verb> gains = new ArrayList<>(theme.gains());
    List<Verb> losses = new ArrayList<>(theme.losses());
    List<Term> terms = new ArrayList<>();
    for (int i = 0; i <= events; i++) {
      Kind kind = i == 0 ? Kind.START : rng.nextDouble() < LOSS_PROBABILITY ? Kind.LOSS : Kind.GAIN;
      boolean group = groupTerms.contains(i);
      Verb verb = null;
      if (kind != Kind.START) {
        List<Verb> pool = (kind == Kind.GAIN ? gains : losses).stream().filter(v -> !group || v.groups()).toList();
        if (pool.isEmpty()) {
          return null;
        }
        verb = pick(rng, pool);
        (kind == Kind.GAIN ? gains : losses).remove(verb);
      }
      String var = kind == Kind.START ? item.var() : verb.var();
      if (group) {
        if (containers.isEmpty()) {
          return null;
        }
        Container c = containers.remove(rng.nextInt(containers.size()));
        terms.add(new Term(i, kind, verb, c, 0, between(rng, 2, config.maxFactor()), between(rng, 2, config.maxFactor()),
            var));
      } else {
        int max = kind == Kind.START ? config.maxResult() : config.maxNumber();
        terms.add(new Term(i, kind, verb, null, between(rng, 2, max), 0, 0, var));
      }
    }
    if (CANCEL.equals(family)) {
      terms = cancelPair(rng, terms);
    } else if (DISTRIBUTE.equals(family)) {
      Term start = terms.get(0);
      for (int i = 1; i < terms.size(); i++) {
        Term t = terms.get(i);
        if (t.isGroup()) {
          terms.set(i, new Term(t.index(), t.kind(), t.verb(), t.container(), 0, t.groups(), start.perGroup(), t.var()));
        }
      }
    }
    return terms == null ? null : new Story(config, item, owner, List.copyOf(terms));
  }

  /** Makes one plain gain and one plain loss equal (a cancellation); null if the story has no such pair. */
  private static List<Term> cancelPair(Random rng, List<Term> terms) {
    List<Term> gains = terms.stream().filter(t -> t.kind() == Kind.GAIN && !t.isGroup()).toList();
    List<Term> losses = terms.stream().filter(t -> t.kind() == Kind.LOSS && !t.isGroup()).toList();
    if (gains.isEmpty() || losses.isEmpty()) {
      return null;
    }
    Term gain = pick(rng, gains);
    Term loss = pick(rng, losses);
    List<Term> out = new ArrayList<>(terms);
    out.set(loss.index(), new Term(loss.index(), loss.kind(), loss.verb(), null, gain.count(), 0, 0, loss.var()));
    return out;
  }

  /**
   * Every single-step fact of the practised range, once each, in random wording: sums and differences with a
   * count of 2..maxNumber and a result in 1..maxResult, and every group product.
   */
  private static List<SyntheticProblem> facts(SyntheticConfig config, Set<String> seen, Random rng) {
    List<int[]> facts = new ArrayList<>(); // {kind: 0 sum, 1 difference, 2 product; a; b}
    for (int a = 2; a <= config.maxResult(); a++) {
      for (int b = 2; b <= config.maxNumber(); b++) {
        if (a + b <= config.maxResult()) {
          facts.add(new int[] {0, a, b});
        }
        if (a - b >= 1) {
          facts.add(new int[] {1, a, b});
        }
      }
    }
    for (int a = 2; a <= config.maxFactor(); a++) {
      for (int b = 2; b <= config.maxFactor(); b++) {
        facts.add(new int[] {2, a, b});
      }
    }
    List<SyntheticProblem> out = new ArrayList<>(facts.size());
    for (int[] f : facts) {
      for (int attempt = 0; ; attempt++) {
        Story s = fact(rng, f, config);
        if (s != null && seen.add(s.question())) {
          out.add(s.annotate("synthetic_train_" + out.size(), FACT, rng));
          break;
        }
        if (attempt > ATTEMPTS_PER_PROBLEM) {
          throw new IllegalStateException("cannot word the fact " + java.util.Arrays.toString(f) + " distinctly");
        }
      }
    }
    return out;
  }

  private static Story fact(Random rng, int[] f, SyntheticConfig config) {
    Theme theme = pick(rng, Lexicon.THEMES);
    Item item = pick(rng, theme.items());
    Person owner = pick(rng, Lexicon.PEOPLE);
    if (f[0] == 2) {
      Container c = pick(rng, theme.containers());
      return new Story(config, item, owner, List.of(new Term(0, Kind.START, null, c, 0, f[1], f[2], item.var())));
    }
    Kind kind = f[0] == 0 ? Kind.GAIN : Kind.LOSS;
    Verb verb = pick(rng, kind == Kind.GAIN ? theme.gains() : theme.losses());
    return new Story(config, item, owner, List.of(new Term(0, Kind.START, null, null, f[1], 0, 0, item.var()),
        new Term(1, kind, verb, null, f[2], 0, 0, verb.var())));
  }
}
