package dev.reft.cli.demo;

import java.util.Locale;

/**
 * A demo's size. Both fit a 2-core CPU with no GPU.
 *
 * @param name the preset's name
 * @param trainSize synthetic training problems (the paths task adds its single-step facts)
 * @param testSize held-out problems (2–3 steps; 1–3 for the orders task); 2,000 give a standard error of about
 *     1 point
 * @param hardSize held-out 4-step problems, reported separately
 * @param warmupEpochs warm-up SFT epochs (the ReFT starting point)
 * @param scheduleEpochs epochs the warm-up's learning-rate schedule spans (it stops early, as the official warm-up)
 * @param reftUpdates PPO updates
 * @param bestSftEpochs epochs of the best-SFT baseline (trained to its best held-out accuracy); 0 skips it
 * @param votingK samples per problem for voting@K
 * @param evalEvery evaluate every this many ReFT versions
 */
record Preset(String name, int trainSize, int testSize, int hardSize, int warmupEpochs, int scheduleEpochs,
    int reftUpdates, int bestSftEpochs, int votingK, int evalEvery) {

  static Preset of(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "quick" -> new Preset("quick", 2000, 300, 100, 8, 20, 30, 0, 4, 10);
      case "default" -> new Preset("default", 2000, 2000, 500, 8, 20, 150, 20, 8, 50);
      default -> throw new IllegalArgumentException("unknown preset '" + name + "' (quick or default)");
    };
  }
}
