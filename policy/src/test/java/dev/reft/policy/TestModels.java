package dev.reft.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small model shapes and inputs shared by the tests (fast on two CPU cores). */
final class TestModels {

  private TestModels() {}

  /**
   * A small untied, grouped-query configuration (4 query heads over 2 key/value heads), so the tests
   * cover the general path; the presets (tied, plain multi-head) get their own test.
   */
  static ModelConfig small(int vocab) {
    return new ModelConfig(vocab, 32, 2, 4, 2, 64, 64, false, 0.2f, 10_000f, 1e-5f);
  }

  /** Random token sequences with lengths in [minLength, maxLength], avoiding ids below {@code firstId}. */
  static List<int[]> randomSequences(long seed, int count, int minLength, int maxLength, int firstId, int vocab) {
    Random random = new Random(seed);
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int[] s = new int[minLength + random.nextInt(maxLength - minLength + 1)];
      for (int j = 0; j < s.length; j++) {
        s[j] = firstId + random.nextInt(vocab - firstId);
      }
      out.add(s);
    }
    return out;
  }

  static int[] concat(int[] a, int[] b) {
    int[] out = new int[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
