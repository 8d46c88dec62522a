package dev.reft.policy.sampling;

/**
 * One generated response.
 *
 * @param tokens the response token ids, not including the prompt; ends with EOS when {@code
 *     finishReason} is {@link FinishReason#EOS}
 * @param logProbs the behaviour log-probability of each response token: the log of the probability
 *     with which the sampler actually drew it (after temperature, top-k and top-p; for greedy decoding,
 *     the model's untempered log-probability of the argmax). Same length as {@code tokens}.
 * @param finishReason EOS or LENGTH
 */
public record Sample(int[] tokens, float[] logProbs, FinishReason finishReason) {

  /** @return the number of response tokens */
  public int length() {
    return tokens.length;
  }

  /** @return the sum of the per-token log-probabilities: the log-probability of the whole response */
  public double totalLogProb() {
    double sum = 0;
    for (float lp : logProbs) {
      sum += lp;
    }
    return sum;
  }
}
