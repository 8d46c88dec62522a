package dev.reft.policy.sampling;

/**
 * How to choose each next token. The ReFT defaults are {@link #reft(int)}: temperature 1, no top-k, no
 * top-p truncation.
 *
 * @param temperature divides the logits before the softmax; 0 means greedy (argmax)
 * @param topK keep only the k most likely tokens (0 = all)
 * @param topP keep the smallest set of most likely tokens whose probability reaches p (1 = all)
 * @param maxNewTokens the longest response; generation also stops at the model's maxSeqLen
 */
public record SamplingParams(double temperature, int topK, double topP, int maxNewTokens) {

  /** Validates the fields. */
  public SamplingParams {
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be >= 0 (0 = greedy): " + temperature);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("topK must be >= 0 (0 = off): " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1]: " + topP);
    }
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("maxNewTokens must be >= 1: " + maxNewTokens);
    }
  }

  /**
   * The official ReFT sampling settings.
   *
   * @param maxNewTokens the longest response
   * @return temperature 1, top-k off, top-p 1
   */
  public static SamplingParams reft(int maxNewTokens) {
    return new SamplingParams(1.0, 0, 1.0, maxNewTokens);
  }

  /**
   * Greedy (top-1) decoding, as used for evaluation.
   *
   * @param maxNewTokens the longest response
   * @return temperature 0
   */
  public static SamplingParams greedy(int maxNewTokens) {
    return new SamplingParams(0, 0, 1.0, maxNewTokens);
  }

  /** @return whether this is greedy decoding */
  public boolean isGreedy() {
    return temperature == 0;
  }
}
