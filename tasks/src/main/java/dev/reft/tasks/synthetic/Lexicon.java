package dev.reft.tasks.synthetic;

import java.util.List;

/**
 * The words of the synthetic word problems. Deliberately small (about 150 word types, see
 * {@code SyntheticTaskTest}) so that a word-level tokenizer built from the corpus stays small, yet varied
 * enough (6 themes, 12 names, several verbs, containers and units each) that a model has to read the question.
 */
final class Lexicon {

  private Lexicon() {}

  /** A person: name and subject pronoun. */
  record Person(String name, String pronoun) {
    String var() {
      return name.toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A countable thing or a unit with its substance ({@code "liters of milk"}); {@code var} names it in P-CoT. */
  record Item(String noun, String var) {}

  /**
   * A verb in the present tense and the P-CoT variable it names ({@code buys} → {@code bought}).
   *
   * @param groups whether the verb reads well with a group phrase ("buys 3 bags with 4 apples in each bag")
   */
  record Verb(String text, String var, boolean groups) {}

  /** A container, plural and singular ({@code boxes}, {@code box}). */
  record Container(String plural, String singular) {}

  /** Items that share verbs and containers. */
  record Theme(List<Item> items, List<Verb> gains, List<Verb> losses, List<Container> containers) {}

  static final List<Person> PEOPLE = List.of(
      new Person("Anna", "She"), new Person("Ben", "He"), new Person("Carla", "She"), new Person("David", "He"),
      new Person("Emma", "She"), new Person("Farid", "He"), new Person("Grace", "She"), new Person("Hugo", "He"),
      new Person("Ines", "She"), new Person("Jack", "He"), new Person("Lena", "She"), new Person("Omar", "He"));

  private static final Verb BUYS = new Verb("buys", "bought", true);
  private static final Verb GETS = new Verb("gets", "got", true);
  private static final Verb FINDS = new Verb("finds", "found", true);
  private static final Verb WINS = new Verb("wins", "won", true);
  private static final Verb MAKES = new Verb("makes", "made", true);
  private static final Verb BAKES = new Verb("bakes", "baked", true);
  private static final Verb PICKS = new Verb("picks", "picked", false);
  private static final Verb EARNS = new Verb("earns", "earned", false);
  private static final Verb SAVES = new Verb("saves", "saved", false);
  private static final Verb GIVES_AWAY = new Verb("gives away", "given", true);
  private static final Verb SELLS = new Verb("sells", "sold", true);
  private static final Verb LOSES = new Verb("loses", "lost", true);
  private static final Verb EATS = new Verb("eats", "eaten", false);
  private static final Verb USES = new Verb("uses", "used", false);
  private static final Verb DRINKS = new Verb("drinks", "drunk", false);
  private static final Verb SPENDS = new Verb("spends", "spent", false);
  private static final Verb PAYS = new Verb("pays", "paid", false);

  private static final Container BAGS = new Container("bags", "bag");
  private static final Container BOXES = new Container("boxes", "box");
  private static final Container BASKETS = new Container("baskets", "basket");
  private static final Container PACKS = new Container("packs", "pack");
  private static final Container JARS = new Container("jars", "jar");
  private static final Container ENVELOPES = new Container("envelopes", "envelope");
  private static final Container BOTTLES = new Container("bottles", "bottle");
  private static final Container JUGS = new Container("jugs", "jug");
  private static final Container TRAYS = new Container("trays", "tray");
  private static final Container PLATES = new Container("plates", "plate");

  static final List<Theme> THEMES = List.of(
      new Theme(items("apples", "pears", "oranges", "lemons"),
          List.of(BUYS, PICKS, GETS, FINDS), List.of(EATS, SELLS, GIVES_AWAY, LOSES), List.of(BAGS, BOXES, BASKETS)),
      new Theme(items("pens", "pencils", "books", "stickers"),
          List.of(BUYS, GETS, FINDS, WINS), List.of(GIVES_AWAY, LOSES, SELLS, USES), List.of(BOXES, PACKS, BAGS)),
      new Theme(items("dollars"),
          List.of(EARNS, GETS, SAVES, FINDS), List.of(SPENDS, GIVES_AWAY, LOSES, PAYS), List.of(ENVELOPES, JARS)),
      new Theme(List.of(new Item("liters of water", "water"), new Item("liters of milk", "milk"),
              new Item("liters of juice", "juice")),
          List.of(BUYS, GETS, MAKES), List.of(DRINKS, USES, GIVES_AWAY, SELLS), List.of(BOTTLES, JUGS)),
      new Theme(items("marbles", "cards", "balls", "toys"),
          List.of(BUYS, WINS, GETS, FINDS), List.of(LOSES, GIVES_AWAY, SELLS), List.of(BAGS, BOXES, JARS)),
      new Theme(items("cookies", "muffins", "cakes", "eggs"),
          List.of(BAKES, BUYS, MAKES, GETS), List.of(EATS, SELLS, GIVES_AWAY, USES), List.of(TRAYS, BOXES, PLATES)));

  private static List<Item> items(String... nouns) {
    return java.util.Arrays.stream(nouns).map(n -> new Item(n, n)).toList();
  }
}
