package dev.reft.tasks.synthetic;

/**
 * Settings of the built-in synthetic task. The defaults follow the calibration notes of DESIGN.md §3: easy
 * arithmetic with small results, 1–3 steps for training and the main test split, a modest SFT set (2,000) and
 * a held-out set of 1,000, plus a separately reported slice of 4-step problems.
 *
 * @param seed the generator seed; the same configuration always yields the same problems
 * @param trainSize number of training problems (default 2,000)
 * @param testSize number of problems in the main held-out split (default 1,000)
 * @param hardTestSize number of problems in the hard held-out slice, all with {@code hardSteps} steps
 *     (default 500)
 * @param minSteps fewest arithmetic steps in train and test (default 1)
 * @param maxSteps most arithmetic steps in train and test (default 3)
 * @param hardSteps steps of every problem in the hard slice (default 4)
 * @param hardTrainFraction share of training problems with {@code hardSteps} steps (default 0: the hard slice
 *     tests composition beyond anything seen in training)
 * @param maxNumber counts in the questions are 2..maxNumber (default 10)
 * @param maxFactor group sizes, items per group and divisors are 2..maxFactor (default 5)
 * @param maxResult every intermediate and final result lies in 0..maxResult (default 30); the answer is >= 1
 */
public record SyntheticConfig(
    long seed,
    int trainSize,
    int testSize,
    int hardTestSize,
    int minSteps,
    int maxSteps,
    int hardSteps,
    double hardTrainFraction,
    int maxNumber,
    int maxFactor,
    int maxResult) {

  /** The most steps a problem can have (4 terms, 2 of them groups, and a division). */
  public static final int MAX_SUPPORTED_STEPS = 6;

  public SyntheticConfig {
    if (trainSize < 0 || testSize < 0 || hardTestSize < 0) {
      throw new IllegalArgumentException("split sizes must be >= 0");
    }
    if (minSteps < 1 || maxSteps < minSteps || maxSteps > MAX_SUPPORTED_STEPS
        || hardSteps < 1 || hardSteps > MAX_SUPPORTED_STEPS) {
      throw new IllegalArgumentException("need 1 <= minSteps <= maxSteps <= " + MAX_SUPPORTED_STEPS
          + " and 1 <= hardSteps <= " + MAX_SUPPORTED_STEPS);
    }
    if (hardTrainFraction < 0 || hardTrainFraction > 1) {
      throw new IllegalArgumentException("hardTrainFraction must be in [0, 1]");
    }
    if (maxNumber < 2 || maxFactor < 2 || maxResult < maxNumber) {
      throw new IllegalArgumentException("need maxNumber >= 2, maxFactor >= 2, maxResult >= maxNumber");
    }
  }

  /** The defaults with the given seed. */
  public static SyntheticConfig defaults(long seed) {
    return new SyntheticConfig(seed, 2_000, 1_000, 500, 1, 3, 4, 0.0, 10, 5, 30);
  }

  /** The generator seed of the built-in task unless one is chosen: every tool's default split. */
  public static final long DEFAULT_SEED = 1234;

  /** The defaults (seed {@value #DEFAULT_SEED}). */
  public static SyntheticConfig defaults() {
    return defaults(DEFAULT_SEED);
  }

  /** A copy with other split sizes. */
  public SyntheticConfig withSizes(int train, int test, int hardTest) {
    return new SyntheticConfig(seed, train, test, hardTest, minSteps, maxSteps, hardSteps, hardTrainFraction,
        maxNumber, maxFactor, maxResult);
  }

  /** A copy with another seed. */
  public SyntheticConfig withSeed(long newSeed) {
    return new SyntheticConfig(newSeed, trainSize, testSize, hardTestSize, minSteps, maxSteps, hardSteps,
        hardTrainFraction, maxNumber, maxFactor, maxResult);
  }
}
