package dev.reft.tasks.synthetic;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded random draws and orderings shared by the generators. */
final class Draws {

  private Draws() {}

  /** An independent random stream of a seed, one per split. */
  static Random stream(long seed, long salt) {
    return new Random(seed * 0x9E3779B97F4A7C15L + salt);
  }

  /** A whole number in lo..hi. */
  static int between(Random rng, int lo, int hi) {
    return lo + rng.nextInt(hi - lo + 1);
  }

  static <T> T pick(Random rng, List<T> list) {
    return list.get(rng.nextInt(list.size()));
  }

  /** Every ordering of the items. */
  static <T> List<List<T>> permutations(List<T> items) {
    if (items.size() <= 1) {
      return List.of(items);
    }
    List<List<T>> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      List<T> rest = new ArrayList<>(items);
      T first = rest.remove(i);
      for (List<T> tail : permutations(rest)) {
        List<T> p = new ArrayList<>(tail.size() + 1);
        p.add(first);
        p.addAll(tail);
        out.add(p);
      }
    }
    return out;
  }
}
