package dev.reft.tasks.synthetic;

/**
 * Settings of the built-in synthetic task: easy arithmetic with small results, a modest SFT set (2,000) and a
 * held-out set of 1,000, plus a separately reported slice of 4-step problems.
 *
 * @param task which generator: {@link Task#PATHS} (the default) or {@link Task#ORDERS} (the task of the first
 *     published runs, kept so that their numbers stay reproducible)
 * @param seed the generator seed; the same configuration always yields the same problems
 * @param trainSize number of training problems (default 2,000); {@link Task#PATHS} adds every in-range
 *     single-step fact to them
 * @param testSize number of problems in the main held-out split (default 1,000)
 * @param hardTestSize number of problems in the hard held-out slice, all with {@code hardSteps} steps
 *     (default 500)
 * @param minSteps fewest arithmetic steps in train and test (default 1; {@link Task#PATHS}: 2, its 1-step
 *     problems are the facts)
 * @param maxSteps most arithmetic steps in train and test (default 3)
 * @param hardSteps steps of every problem in the hard slice (default 4)
 * @param hardTrainFraction share of training problems with {@code hardSteps} steps (default 0: the hard slice
 *     tests composition beyond anything seen in training)
 * @param maxNumber counts in the questions are 2..maxNumber (default 10; {@link Task#PATHS}: what is gained or
 *     lost, a starting count may be up to maxResult)
 * @param maxFactor group sizes, items per group and divisors are 2..maxFactor (default 5)
 * @param maxResult every intermediate and final result lies in 0..maxResult (default 30); the answer is >= 1.
 *     {@link Task#PATHS}: the practised range — the cheapest path of every problem stays inside it, a costlier
 *     order may leave it (up to twice maxResult)
 */
public record SyntheticConfig(
    Task task,
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

  /** The generators. */
  public enum Task {
    /**
     * Problems with several valid chains of different cost — a cancellation, a distributive shortcut, an order
     * that stays in the practised range — annotated with one chain chosen at random, plus every single-step fact
     * of the practised range: sampling can find cheaper chains than the annotation shows ({@link PathsTask}).
     */
    PATHS,
    /** Stories whose operations can be done in several orders of equal cost ({@link OrdersTask}). */
    ORDERS;

    /** The task named {@code paths} or {@code orders} (case-insensitive). */
    public static Task parse(String name) {
      for (Task t : values()) {
        if (t.name().equalsIgnoreCase(name.strip())) {
          return t;
        }
      }
      throw new IllegalArgumentException("unknown synthetic task '" + name + "' (expected paths or orders)");
    }

    /** The lower-case name used in configuration. */
    public String id() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** The most steps a problem can have (4 terms, 2 of them groups, and a division). */
  public static final int MAX_SUPPORTED_STEPS = 6;

  public SyntheticConfig {
    java.util.Objects.requireNonNull(task, "task");
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

  /** The defaults of the default task ({@link Task#PATHS}) with the given seed. */
  public static SyntheticConfig defaults(long seed) {
    return defaults(Task.PATHS, seed);
  }

  /** The defaults of a task with the given seed. */
  public static SyntheticConfig defaults(Task task, long seed) {
    return switch (task) {
      case PATHS -> new SyntheticConfig(task, seed, 2_000, 1_000, 500, 2, 3, 4, 0.0, 10, 5, 30);
      case ORDERS -> new SyntheticConfig(task, seed, 2_000, 1_000, 500, 1, 3, 4, 0.0, 10, 5, 30);
    };
  }

  /** The generator seed of the built-in task unless one is chosen: every tool's default split. */
  public static final long DEFAULT_SEED = 1234;

  /** The defaults (seed {@value #DEFAULT_SEED}). */
  public static SyntheticConfig defaults() {
    return defaults(DEFAULT_SEED);
  }

  /** A copy with other split sizes. */
  public SyntheticConfig withSizes(int train, int test, int hardTest) {
    return new SyntheticConfig(task, seed, train, test, hardTest, minSteps, maxSteps, hardSteps, hardTrainFraction,
        maxNumber, maxFactor, maxResult);
  }

  /** A copy with another seed. */
  public SyntheticConfig withSeed(long newSeed) {
    return new SyntheticConfig(task, newSeed, trainSize, testSize, hardTestSize, minSteps, maxSteps, hardSteps,
        hardTrainFraction, maxNumber, maxFactor, maxResult);
  }
}
