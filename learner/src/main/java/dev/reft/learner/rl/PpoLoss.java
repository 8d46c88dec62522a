package dev.reft.learner.rl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * The PPO objective of ReFT with decoupled off-policy correction.
 *
 * <p>ReFT (Luong et al., 2024) uses the clipped surrogate of Schulman et al. (2017) with a clipped value
 * loss on a value head sharing the policy's backbone:
 *
 * <pre>
 *   ratio_t  = π_θ(a_t|s_t) / π_prox(a_t|s_t)                    logRatio = log π_θ − log π_prox
 *   L^pg_t   = max(−Â_t · ratio_t, −Â_t · clip(ratio_t, 1 − ε, 1 + ε))
 *   V^clip_t = V_old + clip(V_θ − V_old, −ε_v, +ε_v)
 *   L^v_t    = ½ · max((V_θ − R_t)², (V^clip_t − R_t)²)
 *   L        = mean_seq(mean_tok(L^pg)) + α · mean_seq(mean_tok(L^v))
 * </pre>
 *
 * <p>Samplers run asynchronously, so a trajectory may come from a policy a few versions older than the
 * learner's. Following decoupled PPO (Hilton et al., 2022; AReaL, Fu et al., 2025) the <em>proximal</em>
 * policy π_prox is the learner's policy before this update, recomputed on the batch, and each token's
 * surrogate is weighted by the truncated importance weight of proximal over behaviour policy μ (whose
 * log-probs the sampler recorded):
 *
 * <pre>
 *   w_t = min(π_prox(a_t|s_t) / μ(a_t|s_t), c)          L^pg_t ← w_t · L^pg_t
 * </pre>
 *
 * When the sampler used the learner's current weights, π_prox = μ and w_t = 1: plain PPO.
 *
 * <p>Shape legend: B = sequences, T = padded response length. Every input is (B, T) over response tokens,
 * with {@code mask} 1 on real tokens and 0 on padding; every sequence has at least one real token.
 *
 * <p>Scalars are created as NDArrays in the caller's step manager, never with {@code mul(Number)} and
 * friends, which in DJL 0.36 build a temporary tensor that can be freed before {@code backward()}.
 */
public final class PpoLoss {

  private PpoLoss() {}

  /** The hyperparameters the loss needs. */
  public record Coefficients(float clipCoef, float valueClipCoef, float valueLossCoef, float importanceWeightCap) {
    public Coefficients {
      if (!(clipCoef > 0) || !(valueClipCoef > 0) || !(valueLossCoef >= 0) || !(importanceWeightCap >= 1)) {
        throw new IllegalArgumentException("need clipCoef > 0, valueClipCoef > 0, valueLossCoef >= 0, "
            + "importanceWeightCap >= 1; got " + this);
      }
    }
  }

  /** The inputs of one PPO mini-batch. Tensors without gradient are the targets computed before the update. */
  public record Batch(
      NDArray logProbs, //          log π_θ(a_t)      (B, T), with gradient
      NDArray values, //            V_θ(s_t)          (B, T), with gradient
      NDArray proxLogProbs, //      log π_prox(a_t)   (B, T)
      NDArray behaviourLogProbs, // log μ(a_t)        (B, T)
      NDArray oldValues, //         V_old(s_t)        (B, T)
      NDArray advantages, //        Â_t, whitened     (B, T)
      NDArray returns, //           R_t               (B, T)
      NDArray mask) {} //           1 = real token    (B, T)

  /**
   * The loss and the diagnostics PPO users look for.
   *
   * @param loss L = policy loss + α · value loss (scalar, with gradient)
   * @param policyLoss the surrogate term (scalar, with gradient)
   * @param valueLoss the value term before α (scalar, with gradient)
   * @param approxKl mean over tokens of (ratio − 1) − log ratio, a low-variance estimate of KL(π_prox‖π_θ)
   * @param clipFraction share of tokens whose ratio left [1 − ε, 1 + ε]
   * @param importanceWeight mean truncated weight w (1 when on-policy)
   * @param truncatedFraction share of tokens whose weight hit the cap c
   */
  public record Result(NDArray loss, NDArray policyLoss, NDArray valueLoss,
      float approxKl, float clipFraction, float importanceWeight, float truncatedFraction) {}

  /**
   * Computes the loss of one mini-batch.
   *
   * @param scalars the step's manager: scalar constants are created there so they live until backward
   */
  public static Result compute(Batch b, Coefficients c, NDManager scalars) {
    NDArray one = scalars.create(1f);
    NDArray half = scalars.create(0.5f);
    NDArray clipLow = scalars.create(1f - c.clipCoef());
    NDArray clipHigh = scalars.create(1f + c.clipCoef());
    NDArray valueClipLow = scalars.create(-c.valueClipCoef());
    NDArray valueClipHigh = scalars.create(c.valueClipCoef());
    NDArray weightCap = scalars.create(c.importanceWeightCap());
    NDArray alpha = scalars.create(c.valueLossCoef());
    NDArray mask = b.mask();

    // Policy term: clipped surrogate against the proximal policy, weighted by w = min(π_prox / μ, c).
    NDArray logRatio = b.logProbs().sub(b.proxLogProbs()); //                                 (B, T)
    NDArray ratio = logRatio.exp(); //                                                        (B, T)
    NDArray negAdvantages = b.advantages().neg(); //                                          (B, T)
    NDArray pgLosses = negAdvantages.mul(ratio); //                                           (B, T)
    NDArray pgLossesClipped = negAdvantages.mul(ratio.maximum(clipLow).minimum(clipHigh)); // (B, T)
    NDArray rawWeight = b.proxLogProbs().sub(b.behaviourLogProbs()).exp(); //                 (B, T)
    NDArray weight = rawWeight.minimum(weightCap); //                                         (B, T)
    NDArray pgPerToken = pgLosses.maximum(pgLossesClipped).mul(weight); //                   (B, T)
    NDArray policyLoss = meanPerSequenceThenBatch(pgPerToken, mask);

    // Value term: clipped around the values before the update, as in the official code.
    NDArray valuesClipped = b.oldValues()
        .add(b.values().sub(b.oldValues()).maximum(valueClipLow).minimum(valueClipHigh)); //  (B, T)
    NDArray vfLosses = b.values().sub(b.returns()).square(); //                               (B, T)
    NDArray vfLossesClipped = valuesClipped.sub(b.returns()).square(); //                     (B, T)
    NDArray valueLoss = half.mul(meanPerSequenceThenBatch(vfLosses.maximum(vfLossesClipped), mask));

    NDArray loss = policyLoss.add(alpha.mul(valueLoss));

    // Diagnostics (no gradient needed; computed from detached copies' values).
    float tokens = mask.sum().getFloat();
    float approxKl = ratio.sub(one).sub(logRatio).mul(mask).sum().getFloat() / tokens;
    float clipFraction = ratio.sub(one).abs().gt(c.clipCoef()).toType(DataType.FLOAT32, false)
        .mul(mask).sum().getFloat() / tokens;
    float meanWeight = weight.mul(mask).sum().getFloat() / tokens;
    float truncated = rawWeight.gt(c.importanceWeightCap()).toType(DataType.FLOAT32, false)
        .mul(mask).sum().getFloat() / tokens;
    return new Result(loss, policyLoss, valueLoss, approxKl, clipFraction, meanWeight, truncated);
  }

  /**
   * ReFT's reduction: average over the real tokens of each sequence, then over sequences.
   *
   * @param perToken (B, T)
   * @param mask (B, T)
   * @return scalar
   */
  public static NDArray meanPerSequenceThenBatch(NDArray perToken, NDArray mask) {
    NDArray perSequence = perToken.mul(mask).sum(new int[] {1}).div(mask.sum(new int[] {1})); // (B)
    return perSequence.mean();
  }
}
