package dev.reft.learner.rl;

/**
 * KL-shaped per-token rewards, generalised advantage estimation and advantage whitening, as in ReFT
 * (Luong et al., 2024, §3 and the official {@code train_rl_reft.py}) following Ziegler et al. (2019).
 *
 * <p>Everything here works on one batch of response sequences of different lengths, held as ragged
 * arrays {@code x[i][t]} with {@code i} the sequence and {@code t = 0 .. L_i - 1} its response tokens
 * (prompt tokens never get rewards, values or advantages). No autograd is involved: these are targets.
 *
 * <p>Shape legend: B = sequences in the batch, L_i = response length of sequence i.
 */
public final class Gae {

  private Gae() {}

  /**
   * The per-token rewards r_t of ReFT: a KL penalty on every token and the task reward on the last one.
   *
   * <pre>
   *   r_t = −β · (log μ(a_t | s_t) − log π_ref(a_t | s_t))                for every response token t
   *   r_{L−1} += score                                                     (1, 0.1 or 0; the EOS token)
   * </pre>
   *
   * <p><b>Which policy's log-probs.</b> μ is the behaviour policy, the one that sampled the tokens (its
   * log-probs are recorded by the samplers). Summed over a sequence drawn from μ, {@code log μ − log π_ref}
   * is an unbiased estimate of KL(μ‖π_ref), which is never negative in expectation. The official code is
   * on-policy: there μ = π_old, so this is exactly its term. With asynchronous samplers μ lags the learner, and
   * the learner's own pre-update log-probs (π_prox) on μ's samples would estimate
   * KL(μ‖π_ref) − KL(μ‖π_prox) instead: negative whenever the learner has moved further from the reference
   * than μ, so the penalty would turn into a bonus exactly while the policy drifts (measured: −0.56 at
   * version 2 of a quick demo). The other correct choice, the π_prox estimate weighted by π_prox / μ, targets
   * KL(π_prox‖π_ref) but its variance grows with the lag; μ's estimate adds no variance and is the
   * official term whenever the samplers keep up.
   *
   * @param behaviourLogProbs log μ(a_t) recorded by the sampler — (B, L_i)
   * @param refLogProbs log π_ref(a_t) of the frozen warm-up policy — (B, L_i)
   * @param scores task reward of each sequence — (B)
   * @param klCoef β (ReFT: 0.01 P-CoT, 0.05 N-CoT)
   * @return rewards — (B, L_i)
   */
  public static float[][] klShapedRewards(float[][] behaviourLogProbs, float[][] refLogProbs, float[] scores,
      float klCoef) {
    int batch = behaviourLogProbs.length;
    requireSameShape(behaviourLogProbs, refLogProbs, "refLogProbs");
    if (scores.length != batch) {
      throw new IllegalArgumentException("scores has " + scores.length + " entries for " + batch + " sequences");
    }
    float[][] rewards = new float[batch][];
    for (int i = 0; i < batch; i++) {
      int length = behaviourLogProbs[i].length;
      rewards[i] = new float[length];
      for (int t = 0; t < length; t++) {
        float kl = behaviourLogProbs[i][t] - refLogProbs[i][t];
        rewards[i][t] = -klCoef * kl;
      }
      if (length > 0) {
        rewards[i][length - 1] += scores[i];
      }
    }
    return rewards;
  }

  /**
   * The KL of the sampling policy to the reference, for monitoring: the mean over sequences of
   *
   * <pre>
   *   Σ_t (ρ_t − 1) − log ρ_t,      ρ_t = π_ref(a_t | s_t) / μ(a_t | s_t)
   * </pre>
   *
   * an unbiased estimate of KL(μ‖π_ref) over sequences drawn from μ, like the penalty's Σ_t log μ − log π_ref,
   * but with lower variance and never negative for any batch (each term is ≥ 0), so a batch drawn from the
   * reference itself reads 0 rather than a little below or above it (Schulman's "k3" estimator).
   *
   * @param behaviourLogProbs log μ(a_t) — (B, L_i)
   * @param refLogProbs log π_ref(a_t) — (B, L_i)
   */
  public static double klToReference(float[][] behaviourLogProbs, float[][] refLogProbs) {
    requireSameShape(behaviourLogProbs, refLogProbs, "refLogProbs");
    double total = 0;
    for (int i = 0; i < behaviourLogProbs.length; i++) {
      for (int t = 0; t < behaviourLogProbs[i].length; t++) {
        double logRatio = (double) refLogProbs[i][t] - behaviourLogProbs[i][t];
        total += Math.expm1(logRatio) - logRatio;
      }
    }
    return behaviourLogProbs.length == 0 ? 0 : total / behaviourLogProbs.length;
  }

  /** Advantages and returns of a batch, as computed by {@link #estimate}. */
  public record Estimate(float[][] advantages, float[][] returns) {}

  /**
   * Generalised advantage estimation (Schulman et al., 2016), run backwards over each sequence; the
   * value after the last token is 0 (the episode ends at EOS or at the length limit).
   *
   * <pre>
   *   δ_t = r_t + γ · V(s_{t+1}) − V(s_t)
   *   Â_t = δ_t + γ · λ · Â_{t+1}          (lastGaeLam carries Â_{t+1})
   *   R_t = Â_t + V(s_t)                    (the value target)
   * </pre>
   *
   * @param rewards r_t — (B, L_i)
   * @param values V(s_t) of the policy before the update — (B, L_i)
   * @param gamma γ (ReFT: 1.0)
   * @param lambda λ (ReFT: 0.95)
   */
  public static Estimate estimate(float[][] rewards, float[][] values, float gamma, float lambda) {
    requireSameShape(rewards, values, "values");
    int batch = rewards.length;
    float[][] advantages = new float[batch][];
    float[][] returns = new float[batch][];
    for (int i = 0; i < batch; i++) {
      int length = rewards[i].length;
      advantages[i] = new float[length];
      returns[i] = new float[length];
      float lastGaeLam = 0f;
      for (int t = length - 1; t >= 0; t--) {
        float nextValue = t + 1 < length ? values[i][t + 1] : 0f;
        float delta = rewards[i][t] + gamma * nextValue - values[i][t];
        lastGaeLam = delta + gamma * lambda * lastGaeLam;
        advantages[i][t] = lastGaeLam;
        returns[i][t] = lastGaeLam + values[i][t];
      }
    }
    return new Estimate(advantages, returns);
  }

  /**
   * The critic-free group baseline, REINFORCE leave-one-out (Kool et al., 2019; Ahmadian et al., 2024): the K
   * samples of one question share a baseline made of the others' returns, so no value head is needed. A variant,
   * not ReFT's estimator.
   *
   * <pre>
   *   G_t^i = Σ_{t' ≥ t} γ^{t'−t} · r_{t'}^i                  return-to-go of sample i (KL-shaped rewards)
   *   b^i   = (1 / (K_i − 1)) · Σ_{j ∈ group(i), j ≠ i} G_0^j   the other samples' mean return
   *   Â_t^i = G_t^i − b^i
   * </pre>
   *
   * @param rewards r_t — (B, L_i)
   * @param groups the question (group) of each sequence — (B); every group needs at least 2 sequences
   * @param gamma γ (ReFT: 1.0)
   * @return advantages — (B, L_i)
   */
  public static float[][] leaveOneOut(float[][] rewards, int[] groups, float gamma) {
    int batch = rewards.length;
    if (groups.length != batch) {
      throw new IllegalArgumentException("groups has " + groups.length + " entries for " + batch + " sequences");
    }
    float[][] returnsToGo = new float[batch][];
    java.util.Map<Integer, double[]> groupSums = new java.util.HashMap<>(); // group → {Σ G_0, count}
    for (int i = 0; i < batch; i++) {
      int length = rewards[i].length;
      returnsToGo[i] = new float[length];
      float g = 0f;
      for (int t = length - 1; t >= 0; t--) {
        g = rewards[i][t] + gamma * g;
        returnsToGo[i][t] = g;
      }
      double[] sum = groupSums.computeIfAbsent(groups[i], k -> new double[2]);
      sum[0] += length > 0 ? returnsToGo[i][0] : 0;
      sum[1]++;
    }
    float[][] advantages = new float[batch][];
    for (int i = 0; i < batch; i++) {
      double[] sum = groupSums.get(groups[i]);
      if (sum[1] < 2) {
        throw new IllegalArgumentException("group " + groups[i] + " has one sequence: the leave-one-out baseline "
            + "needs at least 2 samples per question");
      }
      double own = returnsToGo[i].length > 0 ? returnsToGo[i][0] : 0;
      float baseline = (float) ((sum[0] - own) / (sum[1] - 1));
      advantages[i] = new float[returnsToGo[i].length];
      for (int t = 0; t < returnsToGo[i].length; t++) {
        advantages[i][t] = returnsToGo[i][t] - baseline;
      }
    }
    return advantages;
  }

  /**
   * Whitens advantages over every response token of the batch: {@code (Â − mean) / sqrt(var + 1e-8)},
   * with the (biased) variance over all tokens, as the official code's {@code masked_whiten}.
   *
   * @param advantages Â — (B, L_i)
   * @return whitened advantages — (B, L_i)
   */
  public static float[][] whiten(float[][] advantages) {
    double sum = 0;
    long count = 0;
    for (float[] row : advantages) {
      for (float a : row) {
        sum += a;
        count++;
      }
    }
    float[][] out = new float[advantages.length][];
    if (count == 0) {
      for (int i = 0; i < advantages.length; i++) {
        out[i] = new float[0];
      }
      return out;
    }
    double mean = sum / count;
    double squares = 0;
    for (float[] row : advantages) {
      for (float a : row) {
        squares += (a - mean) * (a - mean);
      }
    }
    double var = squares / count;
    double scale = 1.0 / Math.sqrt(var + 1e-8);
    for (int i = 0; i < advantages.length; i++) {
      out[i] = new float[advantages[i].length];
      for (int t = 0; t < advantages[i].length; t++) {
        out[i][t] = (float) ((advantages[i][t] - mean) * scale);
      }
    }
    return out;
  }

  /**
   * Explained variance of the value predictions, {@code 1 − Var(R − V) / Var(R)} over all tokens: 1 is a
   * perfect critic, 0 no better than a constant, negative worse than one.
   */
  public static double explainedVariance(float[][] values, float[][] returns) {
    requireSameShape(values, returns, "returns");
    double n = 0;
    double sumR = 0;
    double sumD = 0;
    for (int i = 0; i < values.length; i++) {
      for (int t = 0; t < values[i].length; t++) {
        sumR += returns[i][t];
        sumD += returns[i][t] - values[i][t];
        n++;
      }
    }
    if (n == 0) {
      return Double.NaN;
    }
    double meanR = sumR / n;
    double meanD = sumD / n;
    double varR = 0;
    double varD = 0;
    for (int i = 0; i < values.length; i++) {
      for (int t = 0; t < values[i].length; t++) {
        double r = returns[i][t] - meanR;
        double d = returns[i][t] - values[i][t] - meanD;
        varR += r * r;
        varD += d * d;
      }
    }
    return varR == 0 ? Double.NaN : 1.0 - varD / varR;
  }

  private static void requireSameShape(float[][] a, float[][] b, String name) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(name + " has " + b.length + " sequences, expected " + a.length);
    }
    for (int i = 0; i < a.length; i++) {
      if (a[i].length != b[i].length) {
        throw new IllegalArgumentException(
            name + "[" + i + "] has " + b[i].length + " tokens, expected " + a[i].length);
      }
    }
  }
}
