package dev.reft.tasks.synthetic;

import static dev.reft.tasks.synthetic.Draws.between;
import static dev.reft.tasks.synthetic.Draws.permutations;
import static dev.reft.tasks.synthetic.Draws.pick;
import static dev.reft.tasks.synthetic.Draws.stream;

import dev.reft.tasks.Prompts;
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
 * The first built-in synthetic task ({@link SyntheticConfig.Task#ORDERS}): seeded GSM8K-style arithmetic word problems with N-CoT and P-CoT annotations in
 * the ReFT formats.
 *
 * <p>A problem is a small story about quantities of one kind of item. Either one person starts with some, then
 * gains and loses some ({@code Anna has 3 bags with 4 apples in each bag. She eats 5 apples. She buys 7 more
 * apples.}), or two or three people each have some and the question asks for the total. Any quantity may be a
 * group ({@code 3 bags with 4 apples in each bag}: one multiplication), and the story may end with an equal
 * share ({@code She puts the apples equally into 2 boxes.}: one division with a whole result). The number of
 * operations is the problem's difficulty.
 *
 * <p>The arithmetic is easy on purpose, so that errors come from chaining steps rather than from sums: by default counts 2..10, factors and divisors 2..5, every
 * intermediate result 0..30, so that a small model masters the sums early. What is hard is chaining the steps,
 * and most problems can be solved in several
 * orders: the products in any order, the additions and subtractions in any order that never goes negative. The
 * annotation shows one of those orders, chosen at random, so that sampling can find paths the annotation does
 * not show; {@link SyntheticProblem#validOrders()} says how many there are.
 *
 * <p>N-CoT annotation: one sentence per step, then {@code Therefore, the answer is: N}. P-CoT annotation:
 * {@code def solution():}, the question as docstring, one named variable per given number, one line per step,
 * {@code result = ...}, {@code return result}.
 *
 * <p>Splits: the main test split and the hard slice are generated first, each from its own random stream, so
 * they do not change when the training size changes; training problems never repeat a test question, and no
 * question appears twice anywhere.
 */
final class OrdersTask {

  /** The family name of its problems. */
  static final String FAMILY = "orders";

  private static final long TEST_STREAM = 0x7E57L;
  private static final long HARD_STREAM = 0x4A2DL;
  private static final long TRAIN_STREAM = 0x7EA1L;
  private static final int ATTEMPTS_PER_PROBLEM = 1_000;
  private static final double SHARE_PROBABILITY = 0.25;
  private static final double ONE_OWNER_PROBABILITY = 0.65;
  private static final double LOSS_PROBABILITY = 0.4;

  private OrdersTask() {}

  /** Generates the train, test and hard-test splits of a configuration; deterministic in the configuration. */
  static SyntheticData generate(SyntheticConfig config) {
    Set<String> seen = new HashSet<>();
    List<SyntheticProblem> test = split("test", config.testSize(), stream(config.seed(), TEST_STREAM), config, seen,
        rng -> config.minSteps() + rng.nextInt(config.maxSteps() - config.minSteps() + 1));
    List<SyntheticProblem> hard = split("hard", config.hardTestSize(), stream(config.seed(), HARD_STREAM), config, seen,
        rng -> config.hardSteps());
    List<SyntheticProblem> train = split("train", config.trainSize(), stream(config.seed(), TRAIN_STREAM), config, seen,
        rng -> rng.nextDouble() < config.hardTrainFraction()
            ? config.hardSteps()
            : config.minSteps() + rng.nextInt(config.maxSteps() - config.minSteps() + 1));
    return new SyntheticData(config, train, test, hard);
  }

  private interface StepChooser {
    int steps(Random rng);
  }

  private static List<SyntheticProblem> split(
      String name, int size, Random rng, SyntheticConfig config, Set<String> seen, StepChooser chooser) {
    List<SyntheticProblem> out = new ArrayList<>(size);
    int misses = 0;
    while (out.size() < size) {
      int steps = chooser.steps(rng);
      Draft draft = draft(rng, steps, config);
      if (draft == null || !seen.add(draft.question())) {
        if (++misses > ATTEMPTS_PER_PROBLEM * Math.max(1, size)) {
          throw new IllegalStateException("could only generate " + out.size() + " distinct " + name
              + " problems with " + config);
        }
        continue;
      }
      out.add(draft.annotate("synthetic_" + name + "_" + out.size(), rng));
    }
    return out;
  }


  // ------------------------------------------------------------------------------------------------------------
  // The model of one problem.
  // ------------------------------------------------------------------------------------------------------------

  private enum Role { START, GAIN, LOSS, PERSON }

  /** One quantity of the story, in question order; a group quantity takes a multiplication step. */
  private record Term(int index, Role role, Person person, Verb verb, Container container, int count, int groups,
      int perGroup, String var) {

    boolean isGroup() {
      return container != null;
    }

    int sign() {
      return role == Role.LOSS ? -1 : 1;
    }

    int value() {
      return isGroup() ? groups * perGroup : count;
    }

    /** {@code per_bag}: few distinct names keep the vocabulary small (containers differ within a problem). */
    String perGroupVar() {
      return "per_" + container.singular();
    }
  }

  /** The final equal share: among friends ({@code container == null}) or into containers. */
  private record Share(int divisor, Container container) {
    String var() {
      return container == null ? "friends" : container.plural();
    }
  }

  /** A step of a solution: a product, an addition/subtraction, or the final division. */
  private sealed interface Step permits Product, Combine, Divide {}

  private record Product(Term term) implements Step {}

  /** Adds or subtracts {@code order.get(position)}; position 1 combines the first two terms of the order. */
  private record Combine(List<Term> order, int position) implements Step {}

  private record Divide() implements Step {}

  /** A complete problem before annotation. */
  private record Draft(SyntheticConfig config, Item item, Person owner, List<Term> terms, Share share,
      String question, int steps) {

    boolean together() {
      return owner == null;
    }

    SyntheticProblem annotate(String id, Random rng) {
      List<List<Step>> orders = orders();
      List<Step> chosen = orders.get(rng.nextInt(orders.size()));
      Solution s = solve(chosen);
      return new SyntheticProblem(id, question, s.answer, steps, orders.size(), s.ncot, s.pcot, FAMILY, null, -1);
    }

    /** Every valid order of steps (additions never go below 0 or above maxResult). */
    List<List<Step>> orders() {
      List<List<Step>> out = new ArrayList<>();
      for (List<Term> order : permutations(terms)) {
        if (!validOrder(order)) {
          continue;
        }
        List<Step> combines = new ArrayList<>();
        for (int i = 1; i < order.size(); i++) {
          combines.add(new Combine(order, i));
        }
        interleave(order, combines, 0, new ArrayList<>(), new ArrayList<>(), out);
      }
      return out;
    }

    private boolean validOrder(List<Term> order) {
      if (order.get(0).sign() < 0) {
        return false;
      }
      // a + b and b + a are the same step: keep the question's order for a first pair of additions.
      if (order.size() > 1 && order.get(1).sign() > 0 && order.get(0).index() > order.get(1).index()) {
        return false;
      }
      int sum = order.get(0).value();
      for (int i = 1; i < order.size(); i++) {
        sum += order.get(i).sign() * order.get(i).value();
        if (sum < 0 || sum > config.maxResult()) {
          return false;
        }
      }
      return true;
    }

    /** All sequences of products and combines where each product comes before the combine that uses it. */
    private void interleave(List<Term> order, List<Step> combines, int nextCombine, List<Term> productsDone,
        List<Step> prefix, List<List<Step>> out) {
      List<Term> pending = order.stream().filter(t -> t.isGroup() && !productsDone.contains(t)).toList();
      if (nextCombine == combines.size() && pending.isEmpty()) {
        List<Step> full = new ArrayList<>(prefix);
        if (share != null) {
          full.add(new Divide());
        }
        out.add(List.copyOf(full));
        return;
      }
      for (Term t : pending) {
        productsDone.add(t);
        prefix.add(new Product(t));
        interleave(order, combines, nextCombine, productsDone, prefix, out);
        prefix.remove(prefix.size() - 1);
        productsDone.remove(productsDone.size() - 1);
      }
      if (nextCombine < combines.size()) {
        int position = nextCombine + 1;
        List<Term> needed = position == 1 ? order.subList(0, 2) : List.of(order.get(position));
        if (needed.stream().allMatch(t -> !t.isGroup() || productsDone.contains(t))) {
          prefix.add(combines.get(nextCombine));
          interleave(order, combines, nextCombine + 1, productsDone, prefix, out);
          prefix.remove(prefix.size() - 1);
        }
      }
    }

    private record Solution(long answer, String ncot, String pcot) {}

    /** Works through one order, writing both annotations. */
    private Solution solve(List<Step> order) {
      List<String> sentences = new ArrayList<>();
      List<String> code = new ArrayList<>();
      for (Term t : terms) {
        if (t.isGroup()) {
          code.add(t.container().plural() + " = " + t.groups());
          code.add(t.perGroupVar() + " = " + t.perGroup());
        } else {
          code.add(t.var() + " = " + t.count());
        }
      }
      if (share != null) {
        code.add(share.var() + " = " + share.divisor());
      }
      int total = terms.get(0).value();
      String totalVar = terms.get(0).var();
      String noun = item.noun();
      for (Step step : order) {
        if (step instanceof Product p) {
          Term t = p.term();
          String subject = switch (t.role()) {
            case START -> owner.name() + " has";
            case GAIN, LOSS -> owner.name() + " " + t.verb().text();
            case PERSON -> t.person().name() + " has";
          };
          sentences.add(subject + " " + t.groups() + " * " + t.perGroup() + " = " + t.value() + " " + noun + ".");
          code.add(t.var() + " = " + t.container().plural() + " * " + t.perGroupVar());
        } else if (step instanceof Combine c) {
          Term t = c.order().get(c.position());
          int before = c.position() == 1 ? c.order().get(0).value() : total;
          String op = t.sign() > 0 ? "+" : "-";
          total = before + t.sign() * t.value();
          String subject = together()
              ? names(c.order().subList(0, c.position() + 1)) + " have"
              : owner.name() + " has";
          sentences.add(subject + " " + before + " " + op + " " + t.value() + " = " + total + " " + noun + ".");
          code.add("total = " + (c.position() == 1 ? c.order().get(0).var() : "total") + " " + op + " " + t.var());
          totalVar = "total";
        } else {
          int quotient = total / share.divisor();
          String who = share.container() == null ? "Each friend gets" : "Each " + share.container().singular() + " has";
          sentences.add(who + " " + total + " / " + share.divisor() + " = " + quotient + " " + noun + ".");
          code.add("result = " + totalVar + " / " + share.var());
          total = quotient;
        }
      }
      if (share == null) {
        code.add("result = " + totalVar);
      }
      code.add("return result");
      sentences.add(Prompts.ANSWER_STATEMENT + total);
      String pcot = Prompts.programHeader(question) + "    " + String.join("\n    ", code);
      return new Solution(total, String.join("\n", sentences), pcot);
    }

    private String names(List<Term> involved) {
      List<String> names = involved.stream().sorted((a, b) -> Integer.compare(a.index(), b.index()))
          .map(t -> t.person().name()).toList();
      if (names.size() == 1) {
        return names.get(0);
      }
      return String.join(", ", names.subList(0, names.size() - 1)) + " and " + names.get(names.size() - 1);
    }
  }


  // ------------------------------------------------------------------------------------------------------------
  // Drawing a problem with a given number of steps.
  // ------------------------------------------------------------------------------------------------------------

  /** Draws a problem with exactly {@code steps} operations, or null if this attempt failed a constraint. */
  private static Draft draft(Random rng, int steps, SyntheticConfig config) {
    for (int attempt = 0; attempt < ATTEMPTS_PER_PROBLEM; attempt++) {
      boolean share = rng.nextDouble() < SHARE_PROBABILITY;
      int rest = steps - (share ? 1 : 0);
      boolean oneOwner = rng.nextDouble() < ONE_OWNER_PROBABILITY;
      // One owner: `events` gains/losses after the start, `groups` of the terms are groups.
      // Together: `events` + 1 people, `groups` of them with groups.
      List<int[]> shapes = new ArrayList<>();
      for (int groups = 0; groups <= 2; groups++) {
        int events = rest - groups;
        boolean ok = oneOwner
            ? events >= 0 && events <= 3 && groups <= events + 1
            : events >= 1 && events <= 2 && groups <= events + 1;
        if (ok) {
          shapes.add(new int[] {events, groups});
        }
      }
      if (shapes.isEmpty()) {
        continue;
      }
      int[] shape = shapes.get(rng.nextInt(shapes.size()));
      Draft d = oneOwner
          ? oneOwner(rng, shape[0], shape[1], share, config, steps)
          : together(rng, shape[0] + 1, shape[1], share, config, steps);
      if (d != null) {
        return d;
      }
    }
    return null;
  }

  private static Draft oneOwner(Random rng, int events, int groups, boolean share, SyntheticConfig config, int steps) {
    Theme theme = pick(rng, Lexicon.THEMES);
    Item item = pick(rng, theme.items());
    Person owner = pick(rng, Lexicon.PEOPLE);
    Set<Integer> groupTerms = chooseIndices(rng, events + 1, groups);
    List<Container> containers = new ArrayList<>(theme.containers());
    List<Verb> gains = new ArrayList<>(theme.gains());
    List<Verb> losses = new ArrayList<>(theme.losses());
    List<Term> terms = new ArrayList<>();
    int running = 0;
    for (int i = 0; i <= events; i++) {
      Role role = i == 0 ? Role.START : rng.nextDouble() < LOSS_PROBABILITY ? Role.LOSS : Role.GAIN;
      boolean group = groupTerms.contains(i);
      Verb verb = null;
      if (role != Role.START) {
        List<Verb> pool = (role == Role.GAIN ? gains : losses).stream().filter(v -> !group || v.groups()).toList();
        if (pool.isEmpty()) {
          return null;
        }
        verb = pool.get(rng.nextInt(pool.size()));
        (role == Role.GAIN ? gains : losses).remove(verb);
      }
      String var = role == Role.START ? item.var() : verb.var();
      Term t;
      if (group) {
        if (containers.isEmpty()) {
          return null;
        }
        Container c = containers.remove(rng.nextInt(containers.size()));
        t = new Term(i, role, null, verb, c, 0, between(rng, 2, config.maxFactor()),
            between(rng, 2, config.maxFactor()), var);
      } else {
        // Given counts start at 2 ("1 apples" reads badly); a loss never exceeds what is there.
        int max = role == Role.LOSS ? Math.min(config.maxNumber(), running) : config.maxNumber();
        if (max < 2) {
          return null;
        }
        t = new Term(i, role, null, verb, null, between(rng, 2, max), 0, 0, var);
      }
      running += t.sign() * t.value();
      if (running < 0 || running > config.maxResult()) {
        return null;
      }
      terms.add(t);
    }
    Share s = share ? share(rng, running, containers, config) : null;
    if (running < 1 || (share && s == null)) {
      return null;
    }
    StringBuilder q = new StringBuilder();
    String noun = item.noun();
    for (Term t : terms) {
      String subject = t.role() == Role.START ? owner.name() : owner.pronoun();
      String verb = t.role() == Role.START ? "has" : t.verb().text();
      q.append(subject).append(' ').append(verb).append(' ');
      if (t.isGroup()) {
        q.append(groupPhrase(t, noun));
      } else {
        q.append(t.count()).append(t.role() == Role.GAIN ? " more " : " ").append(noun);
      }
      q.append(". ");
    }
    if (s != null) {
      q.append(shareSentence(owner.pronoun(), "shares", "puts", s, noun)).append(' ');
      q.append(shareQuestion(s, noun));
    } else {
      q.append("How many ").append(noun).append(" does ").append(owner.name())
          .append(events > 0 ? " have now?" : " have?");
    }
    return new Draft(config, item, owner, List.copyOf(terms), s, q.toString(), steps);
  }

  private static Draft together(Random rng, int people, int groups, boolean share, SyntheticConfig config, int steps) {
    Theme theme = pick(rng, Lexicon.THEMES);
    Item item = pick(rng, theme.items());
    List<Person> persons = new ArrayList<>(Lexicon.PEOPLE);
    Set<Integer> groupTerms = chooseIndices(rng, people, groups);
    List<Container> containers = new ArrayList<>(theme.containers());
    List<Term> terms = new ArrayList<>();
    int sum = 0;
    for (int i = 0; i < people; i++) {
      Person p = persons.remove(rng.nextInt(persons.size()));
      Term t;
      if (groupTerms.contains(i)) {
        if (containers.isEmpty()) {
          return null;
        }
        Container c = containers.remove(rng.nextInt(containers.size()));
        t = new Term(i, Role.PERSON, p, null, c, 0, between(rng, 2, config.maxFactor()),
            between(rng, 2, config.maxFactor()), p.var());
      } else {
        t = new Term(i, Role.PERSON, p, null, null, between(rng, 2, config.maxNumber()), 0, 0, p.var());
      }
      sum += t.value();
      terms.add(t);
    }
    if (sum > config.maxResult()) {
      return null;
    }
    Share s = share ? share(rng, sum, containers, config) : null;
    if (share && s == null) {
      return null;
    }
    String noun = item.noun();
    StringBuilder q = new StringBuilder();
    for (Term t : terms) {
      q.append(t.person().name()).append(" has ");
      q.append(t.isGroup() ? groupPhrase(t, noun) : t.count() + " " + noun).append(". ");
    }
    if (s != null) {
      q.append(shareSentence("They", "share", "put", s, noun)).append(' ').append(shareQuestion(s, noun));
    } else {
      List<String> names = terms.stream().map(t -> t.person().name()).toList();
      q.append("How many ").append(noun).append(" do ")
          .append(String.join(", ", names.subList(0, names.size() - 1))).append(" and ").append(names.get(names.size() - 1))
          .append(" have together?");
    }
    return new Draft(config, item, null, List.copyOf(terms), s, q.toString(), steps);
  }

  private static String groupPhrase(Term t, String noun) {
    return t.groups() + " " + t.container().plural() + " with " + t.perGroup() + " " + noun + " in each "
        + t.container().singular();
  }

  /** An equal share of {@code total} with a whole result, among friends or into an unused container. */
  private static Share share(Random rng, int total, List<Container> unused, SyntheticConfig config) {
    List<Integer> divisors = new ArrayList<>();
    for (int n = 2; n <= config.maxFactor(); n++) {
      if (total % n == 0 && total / n >= 1) {
        divisors.add(n);
      }
    }
    if (divisors.isEmpty()) {
      return null;
    }
    int n = pick(rng, divisors);
    Container c = !unused.isEmpty() && rng.nextBoolean() ? pick(rng, unused) : null;
    return new Share(n, c);
  }

  private static String shareSentence(String subject, String shareVerb, String putVerb, Share s, String noun) {
    return s.container() == null
        ? subject + " " + shareVerb + " the " + noun + " equally among " + s.divisor() + " friends."
        : subject + " " + putVerb + " the " + noun + " equally into " + s.divisor() + " " + s.container().plural() + ".";
  }

  private static String shareQuestion(Share s, String noun) {
    return s.container() == null
        ? "How many " + noun + " does each friend get?"
        : "How many " + noun + " are in each " + s.container().singular() + "?";
  }

  private static Set<Integer> chooseIndices(Random rng, int n, int k) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(i);
    }
    Set<Integer> chosen = new HashSet<>();
    for (int i = 0; i < k; i++) {
      chosen.add(all.remove(rng.nextInt(all.size())));
    }
    return chosen;
  }
}
