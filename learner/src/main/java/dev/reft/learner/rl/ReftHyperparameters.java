package dev.reft.learner.rl;

import dev.reft.schemas.CotStyle;
import java.util.function.Function;
import java.util.Optional;

/**
 * Every hyperparameter of the ReFT stage, with the official defaults (Luong et al., 2024; the official
 * {@code train_rl_reft.py}) where the paper fixes one. Read from {@code reft.ppo.*}; logged in
 * full at start-up.
 *
 * @param klCoef β, the per-token KL penalty towards the warm-up policy inside the reward (official: 0.05
 *     for N-CoT, 0.01 for P-CoT; fixed, not adaptive; β = 0 collapses training)
 * @param gamma γ, the discount of GAE (official: 1.0)
 * @param lambda λ, the GAE trace decay (official: 0.95)
 * @param clipCoef ε, the clip range of the policy ratio (official: 0.2)
 * @param valueClipCoef the clip range of new values around the old ones (official: 0.2)
 * @param valueLossCoef α, the weight of the value loss in the total loss (official: 5)
 * @param ppoEpochs passes over each rollout batch (official: 2)
 * @param miniBatchSize sequences per gradient step within a PPO epoch
 * @param maxGradNorm global gradient-norm clip (official: 1.0)
 * @param learningRate AdamW learning rate (official 3e-7 for 7B models; a tiny model trained from scratch
 *     needs far more; the default 1e-4 is the rate at which the tiny model gained held-out accuracy on the
 *     built-in task, where 3e-4 lost it)
 * @param weightDecay AdamW weight decay (official: 0)
 * @param temperature sampling temperature of the rollouts (official: 1.0)
 * @param topK top-k cut-off of the rollouts; 0 disables it (official: off)
 * @param topP nucleus cut-off of the rollouts (official: 1.0)
 * @param samplesPerQuestion K, chains of thought sampled per question per rollout (official: 1)
 * @param questionsPerBatch questions per rollout batch; one PPO update trains on questionsPerBatch × K
 *     trajectories
 * @param maxNewTokens generation budget of a rollout
 * @param importanceWeightCap c, the truncation of the decoupled-PPO weight π_prox / μ (samplers lag the
 *     learner by at most maxPolicyLag versions, so weights stay near 1; the cap bounds the rare outlier)
 * @param maxPolicyLag trajectories sampled more than this many versions before the learner's current one
 *     are dropped (and counted)
 * @param maxInFlight rollout requests outstanding at once; with one version per batch this bounds lag
 */
public record ReftHyperparameters(
    float klCoef,
    float gamma,
    float lambda,
    float clipCoef,
    float valueClipCoef,
    float valueLossCoef,
    int ppoEpochs,
    int miniBatchSize,
    float maxGradNorm,
    double learningRate,
    double weightDecay,
    float temperature,
    int topK,
    float topP,
    int samplesPerQuestion,
    int questionsPerBatch,
    int maxNewTokens,
    float importanceWeightCap,
    int maxPolicyLag,
    int maxInFlight) {

  public ReftHyperparameters {
    require(klCoef >= 0, "klCoef must be >= 0");
    require(gamma > 0 && gamma <= 1, "gamma must be in (0, 1]");
    require(lambda >= 0 && lambda <= 1, "lambda must be in [0, 1]");
    require(clipCoef > 0 && valueClipCoef > 0 && valueLossCoef >= 0, "clip coefficients must be positive");
    require(ppoEpochs >= 1 && miniBatchSize >= 1, "ppoEpochs and miniBatchSize must be >= 1");
    require(maxGradNorm > 0 && learningRate > 0 && weightDecay >= 0, "maxGradNorm, learningRate must be > 0");
    require(temperature > 0 && topK >= 0 && topP > 0 && topP <= 1, "sampling settings out of range");
    require(samplesPerQuestion >= 1 && questionsPerBatch >= 1 && maxNewTokens >= 1, "batch sizes must be >= 1");
    require(importanceWeightCap >= 1, "importanceWeightCap must be >= 1");
    require(maxPolicyLag >= 0 && maxInFlight >= 1, "maxPolicyLag >= 0 and maxInFlight >= 1");
  }

  /** The official β of a chain-of-thought style: 0.01 for P-CoT, 0.05 otherwise. */
  public static float officialKlCoef(CotStyle style) {
    return style == CotStyle.PCOT ? 0.01f : 0.05f;
  }

  /** The shipped defaults for a style (see the field descriptions). */
  public static ReftHyperparameters defaults(CotStyle style) {
    return new ReftHyperparameters(officialKlCoef(style), 1.0f, 0.95f, 0.2f, 0.2f, 5.0f, 2, 32, 1.0f, 1e-4, 0.0,
        1.0f, 0, 1.0f, 4, 32, 96, 2.0f, 2, 64);
  }

  /** The defaults overridden by {@code reft.ppo.<kebab-name>} keys. */
  public static ReftHyperparameters from(CotStyle style, Function<String, Optional<String>> config) {
    ReftHyperparameters d = defaults(style);
    Function<String, Optional<String>> key = k -> config.apply("reft.ppo." + k).map(String::strip);
    return new ReftHyperparameters(
        key.apply("kl-coef").map(Float::parseFloat).orElse(d.klCoef),
        key.apply("gamma").map(Float::parseFloat).orElse(d.gamma),
        key.apply("lambda").map(Float::parseFloat).orElse(d.lambda),
        key.apply("clip-coef").map(Float::parseFloat).orElse(d.clipCoef),
        key.apply("value-clip-coef").map(Float::parseFloat).orElse(d.valueClipCoef),
        key.apply("value-loss-coef").map(Float::parseFloat).orElse(d.valueLossCoef),
        key.apply("ppo-epochs").map(Integer::parseInt).orElse(d.ppoEpochs),
        key.apply("mini-batch-size").map(Integer::parseInt).orElse(d.miniBatchSize),
        key.apply("max-grad-norm").map(Float::parseFloat).orElse(d.maxGradNorm),
        key.apply("learning-rate").map(Double::parseDouble).orElse(d.learningRate),
        key.apply("weight-decay").map(Double::parseDouble).orElse(d.weightDecay),
        key.apply("temperature").map(Float::parseFloat).orElse(d.temperature),
        key.apply("top-k").map(Integer::parseInt).orElse(d.topK),
        key.apply("top-p").map(Float::parseFloat).orElse(d.topP),
        key.apply("samples-per-question").map(Integer::parseInt).orElse(d.samplesPerQuestion),
        key.apply("questions-per-batch").map(Integer::parseInt).orElse(d.questionsPerBatch),
        key.apply("max-new-tokens").map(Integer::parseInt).orElse(d.maxNewTokens),
        key.apply("importance-weight-cap").map(Float::parseFloat).orElse(d.importanceWeightCap),
        key.apply("max-policy-lag").map(Integer::parseInt).orElse(d.maxPolicyLag),
        key.apply("max-in-flight").map(Integer::parseInt).orElse(d.maxInFlight));
  }

  /** Trajectories per PPO update: questionsPerBatch × K. */
  public int trajectoriesPerBatch() {
    return questionsPerBatch * samplesPerQuestion;
  }

  /** The loss coefficients of {@link PpoLoss}. */
  public PpoLoss.Coefficients lossCoefficients() {
    return new PpoLoss.Coefficients(clipCoef, valueClipCoef, valueLossCoef, importanceWeightCap);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
