package dev.reft.policy.sampling;

/**
 * The project's random number generator: SplitMix64 (Steele, Lea and Flood 2014), a 64-bit state that
 * is advanced by a fixed odd constant and mixed into each output.
 *
 * <p>Why our own: sampling must be reproducible from a seed on any machine and JVM version, and its
 * state must be saveable for exact resume ({@link #state()}, {@link #fromState(long)}); DJL has no
 * multinomial sampling to lean on, and {@link java.util.SplittableRandom} hides its state. Not
 * thread-safe: one instance per sequence or per thread.
 */
public final class Rng {

  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private long state;

  /**
   * A generator seeded with {@code seed}.
   *
   * @param seed any value
   */
  public Rng(long seed) {
    this.state = seed;
  }

  /**
   * An independent stream derived from a seed and an index, e.g. one per sequence of a batch: streams
   * with different indices do not overlap in practice, and stream {@code i} does not depend on how many
   * other streams exist.
   *
   * @param seed the base seed
   * @param index the stream index
   * @return a new generator
   */
  public static Rng stream(long seed, long index) {
    return new Rng(mix(seed ^ mix(index + GOLDEN_GAMMA)));
  }

  /**
   * Restores a generator saved with {@link #state()}.
   *
   * @param state a value returned by {@link #state()}
   * @return a generator that continues exactly where the saved one stopped
   */
  public static Rng fromState(long state) {
    return new Rng(state);
  }

  /** @return the complete state; {@link #fromState(long)} continues the sequence */
  public long state() {
    return state;
  }

  /** @return the next 64 uniformly distributed bits */
  public long nextLong() {
    state += GOLDEN_GAMMA;
    return mix(state);
  }

  /** @return a uniform double in [0, 1) with 53 random bits */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /**
   * A uniform integer in [0, bound), without modulo bias.
   *
   * @param bound exclusive upper bound, positive
   * @return the integer
   */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    long limit = (1L << 31) - ((1L << 31) % bound);
    while (true) {
      long r = nextLong() >>> 33;
      if (r < limit) {
        return (int) (r % bound);
      }
    }
  }

  /**
   * A uniformly random permutation of {@code 0 .. n-1} (Fisher–Yates), e.g. a shuffled data order.
   *
   * @param n the length, at least 0
   * @return the permutation
   */
  public int[] permutation(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** @return a standard normal sample (Box-Muller; consumes two uniforms) */
  public double nextGaussian() {
    double u1 = 1.0 - nextDouble(); // (0, 1]: log is finite
    double u2 = nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
