package dev.reft.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * Per-token log-probabilities and entropies from logits, for losses (SFT cross-entropy, PPO ratios, KL
 * to the reference) and diagnostics. Differentiable; results attach to the logits' manager.
 *
 * <p>Shapes: B batch, T time, V vocabulary. Convention: {@code logits[:, t]} is the distribution of
 * the token at t + 1.
 */
public final class TokenLogProbs {

  private TokenLogProbs() {}

  /**
   * log softmax over the vocabulary.
   *
   * @param logits (B, T, V)
   * @return (B, T, V)
   */
  public static NDArray logSoftmax(NDArray logits) {
    return logits.logSoftmax(logits.getShape().dimension() - 1);
  }

  /**
   * Picks the log-probability of given tokens.
   *
   * @param logProbs (B, T, V) from {@link #logSoftmax}
   * @param tokens (B, T) token ids, any integer type
   * @return (B, T): {@code logProbs[b, t, tokens[b, t]]}
   */
  public static NDArray gather(NDArray logProbs, NDArray tokens) {
    NDArray index = tokens.toType(DataType.INT64, false).expandDims(2); // (B, T, 1)
    return logProbs.gather(index, 2).squeeze(2);
  }

  /**
   * {@code log p(tokens[b, t] | logits[b, t])}: the same position, no shift.
   *
   * @param logits (B, T, V)
   * @param tokens (B, T)
   * @return (B, T)
   */
  public static NDArray ofTokens(NDArray logits, NDArray tokens) {
    return gather(logSoftmax(logits), tokens);
  }

  /**
   * {@code log p(tokens[b, t + 1] | tokens[b, ≤ t])}: the log-probability the model assigns to each
   * next token of the sequence it was run on. Entry t belongs to token t + 1; a response starting at
   * index s of the sequence is entries s - 1 ... T - 2.
   *
   * @param logits (B, T, V) of the training forward over {@code tokens}
   * @param tokens (B, T) the same tokens
   * @return (B, T - 1)
   */
  public static NDArray nextTokenLogProbs(NDArray logits, NDArray tokens) {
    // log-softmax over the contiguous logits first: a softmax over the sliced view would copy it
    NDArray predicting = logSoftmax(logits).get(new NDIndex(":, :-1, :")); // (B, T-1, V)
    NDArray next = tokens.get(new NDIndex(":, 1:")); // (B, T-1)
    return gather(predicting, next);
  }

  /**
   * Entropy of each position's distribution, {@code -Σ p log p}.
   *
   * @param logits (B, T, V)
   * @return (B, T), in nats
   */
  public static NDArray entropy(NDArray logits) {
    return entropyOfLogProbs(logSoftmax(logits));
  }

  /**
   * Entropy from log-probabilities already computed with {@link #logSoftmax} (saves a second pass).
   *
   * @param logProbs (B, T, V)
   * @return (B, T)
   */
  public static NDArray entropyOfLogProbs(NDArray logProbs) {
    int last = logProbs.getShape().dimension() - 1;
    return logProbs.exp().mul(logProbs).sum(new int[] {last}).neg();
  }

  /**
   * Divides logits by a sampling temperature, so that log-probabilities of the training forward match
   * the behaviour log-probabilities of a sampler run at that temperature (without top-k / top-p).
   *
   * @param logits (B, T, V)
   * @param temperature positive
   * @return {@code logits / temperature}, or {@code logits} itself when the temperature is 1
   */
  public static NDArray withTemperature(NDArray logits, double temperature) {
    if (!(temperature > 0)) {
      throw new IllegalArgumentException("temperature must be positive: " + temperature);
    }
    if (temperature == 1.0) {
      return logits;
    }
    return logits.div(Scalars.like(logits, temperature));
  }
}
