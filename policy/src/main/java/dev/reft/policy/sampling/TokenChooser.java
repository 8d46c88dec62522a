package dev.reft.policy.sampling;

import java.util.Arrays;

/**
 * Chooses one token from one row of the next-token distribution on the Java side: top-k, top-p, then a
 * draw by inverse CDF from the project's {@link Rng} (DJL has no multinomial sampling).
 *
 * <p>The sampler hands over the row twice, computed natively: the log-probabilities {@code log_softmax(
 * logits / temperature)} and the probabilities {@code exp} of those, so no exponentials run in Java.
 * The returned log-probability is that of the distribution actually sampled from: the row's value when
 * nothing is truncated (so it equals the training forward's log-softmax), else renormalised over the
 * kept tokens.
 *
 * <p>Deterministic: ties are broken by the lower token id, and the draw walks the kept tokens in id
 * order. Not thread-safe (reuses scratch buffers).
 */
final class TokenChooser {

  private float[] sortBuffer = new float[0];
  private Integer[] order = new Integer[0];
  private boolean[] kept = new boolean[0];

  /** The chosen token and its log-probability. */
  record Choice(int token, float logProb) {}

  /**
   * Greedy choice: the most likely token (lowest id on ties) and its log-probability.
   *
   * @param logProbs flat (B·V) log-probabilities
   * @param offset start of the row
   * @param vocab V
   * @return the choice
   */
  Choice greedy(float[] logProbs, int offset, int vocab) {
    int best = 0;
    for (int i = 1; i < vocab; i++) {
      if (logProbs[offset + i] > logProbs[offset + best]) {
        best = i;
      }
    }
    return new Choice(best, logProbs[offset + best]);
  }

  /**
   * Samples a token.
   *
   * @param logProbs flat (B·V) log-probabilities at the sampling temperature
   * @param probs flat (B·V) probabilities, {@code exp(logProbs)}
   * @param offset start of the row
   * @param vocab V
   * @param params top-k and top-p (the temperature is already applied)
   * @param rng the row's generator (one uniform is drawn)
   * @return the choice
   */
  Choice sample(float[] logProbs, float[] probs, int offset, int vocab, SamplingParams params, Rng rng) {
    ensureCapacity(vocab);
    boolean truncated = false;
    float cutoff = Float.NEGATIVE_INFINITY; // tokens below the k-th largest log-probability are dropped
    if (params.topK() > 0 && params.topK() < vocab) {
      System.arraycopy(logProbs, offset, sortBuffer, 0, vocab);
      Arrays.sort(sortBuffer, 0, vocab);
      cutoff = sortBuffer[vocab - params.topK()]; // ties with the k-th largest are kept
      truncated = true;
    }
    double mass = 0;
    for (int i = 0; i < vocab; i++) {
      kept[i] = logProbs[offset + i] >= cutoff && probs[offset + i] > 0;
      if (kept[i]) {
        mass += probs[offset + i];
      }
    }
    if (params.topP() < 1) {
      mass = nucleus(probs, offset, vocab, mass, params.topP());
      truncated = true;
    }
    double u = rng.nextDouble() * mass;
    int chosen = -1;
    double cumulative = 0;
    for (int i = 0; i < vocab; i++) {
      if (!kept[i]) {
        continue;
      }
      chosen = i; // the last kept token absorbs rounding at the top of the range
      cumulative += probs[offset + i];
      if (u < cumulative) {
        break;
      }
    }
    float logProb = logProbs[offset + chosen];
    return new Choice(chosen, truncated ? (float) (logProb - Math.log(mass)) : logProb);
  }

  /**
   * Keeps the smallest set of most likely kept tokens whose mass reaches {@code p} of the kept mass
   * (always at least the most likely one) and drops the rest.
   *
   * @return the mass still kept
   */
  private double nucleus(float[] probs, int offset, int vocab, double mass, double p) {
    int n = 0;
    for (int i = 0; i < vocab; i++) {
      if (kept[i]) {
        order[n++] = i;
      }
    }
    Arrays.sort(order, 0, n, (a, b) -> probs[offset + a] != probs[offset + b] ? Float.compare(probs[offset + b], probs[offset + a]) : Integer.compare(a, b));
    double reached = 0;
    int i = 0;
    while (i < n) {
      reached += probs[offset + order[i]];
      i++;
      if (reached >= p * mass) {
        break;
      }
    }
    for (; i < n; i++) {
      kept[order[i]] = false;
    }
    return reached;
  }

  private void ensureCapacity(int vocab) {
    if (kept.length < vocab) {
      sortBuffer = new float[vocab];
      order = new Integer[vocab];
      kept = new boolean[vocab];
    }
  }
}
