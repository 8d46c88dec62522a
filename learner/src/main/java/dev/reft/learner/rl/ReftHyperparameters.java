package dev.reft.learner.rl;

import dev.reft.schemas.CotStyle;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Every hyperparameter of the ReFT stage, with the official defaults (Luong et al., 2024; the official
 * {@code train_rl_reft.py}) where the paper fixes one. Read from {@code reft.ppo.<kebab-name>} ({@link #from});
 * built in code with {@link #builder}; logged in full at start-up.
 *
 * @param klCoef β, the per-token KL penalty towards the warm-up policy inside the reward (official: 0.05
 *     for N-CoT, 0.01 for P-CoT; fixed, not adaptive; β = 0 collapses training)
 * @param gamma γ, the discount of GAE (official: 1.0)
 * @param lambda λ, the GAE trace decay (official: 0.95)
 * @param clipCoef ε, the clip range of the policy ratio (official: 0.2)
 * @param valueClipCoef the clip range of new values around the old ones (official: 0.2)
 * @param valueLossCoef α, the weight of the value loss in the total loss (official: 5)
 * @param valueDetach stop the value loss's gradient at the backbone, so that only the value head learns from it
 *     (official: false — the value loss trains the shared backbone too)
 * @param advantages how advantages are estimated: {@link AdvantageEstimator#GAE} with the value head (ReFT) or
 *     the critic-free group baseline {@link AdvantageEstimator#RLOO} (a variant, not ReFT)
 * @param ppoEpochs passes over each rollout batch (official: 2)
 * @param miniBatchSize sequences per gradient step within a PPO epoch; 0 = the whole rollout batch, so each
 *     rollout takes {@code ppoEpochs} optimizer steps (official: the mini-batch is the batch)
 * @param microBatchSize sequences per forward and backward pass: a mini-batch runs as micro-batches of similar
 *     length whose gradients add up before the optimizer step (less padding; the same gradient); 0 = the whole
 *     mini-batch in one pass
 * @param maxGradNorm global gradient-norm clip (official: 1.0)
 * @param learningRate AdamW learning rate (official 3e-7 for 7B models; a tiny model trained from scratch
 *     needs far more)
 * @param weightDecay AdamW weight decay (official: 0)
 * @param temperature sampling temperature of the rollouts (official: 1.0); the learner scores log-probs at the
 *     same temperature
 * @param topK top-k cut-off of the rollouts; 0 disables it (official: off). PPO refuses any other value: the
 *     learner's log-probs would not be those of the truncated distribution the samplers drew from
 * @param topP nucleus cut-off of the rollouts (official: 1.0); PPO refuses any other value, as for topK
 * @param samplesPerQuestion K, chains of thought sampled per question per rollout (official: 1; RLOO needs
 *     at least 2). Measured on the paths task (3 seeds, 150 updates of 128 trajectories, docs/experiments.md
 *     8.7): K = 1 over 128 questions gained +6.5 ± 0.6 greedy points over the warm-up, K = 4 over 32 questions
 *     +4.7 ± 0.6 in a run at the same commit and +6.2 ± 0.4 in an earlier one: not worse, so the official K = 1
 * @param questionsPerBatch questions per rollout batch; one update trains on questionsPerBatch × K
 *     trajectories, the K samples of a question always in the same update (128 × 1 by default: a batch the size of
 *     the RLOO variant's 32 × 4)
 * @param maxNewTokens generation budget of a rollout
 * @param importanceWeightCap c, the truncation of the decoupled-PPO weight π_prox / μ (samplers lag the
 *     learner by at most maxPolicyLag versions, so weights stay near 1; the cap bounds the rare outlier)
 * @param maxPolicyLag trajectories sampled more than this many versions before the newest published policy
 *     are dropped (and counted); with {@code publish-every} k the samplers' policy is up to k − 1 versions older
 *     than the learner's anyway. Default 0: lockstep, on-policy as the official code — each batch is sampled by
 *     the policy being trained. Measured on the paths task (seed 1, 150 updates): lag ≤ 2 ran the RL loop about a
 *     third faster but gained +3.8 greedy points and left the cheapest-path share where it was (0.31 → 0.32),
 *     against +6.9 and 0.31 → 0.61 in lockstep
 * @param maxInFlight questions requested and not yet trained (outstanding, or answered and waiting for the update);
 *     0 = derived: one batch in lockstep, so the next batch is requested after the update, two batches when lag is
 *     allowed (see {@link #requestsInFlight()}); otherwise at least questionsPerBatch, or a batch could never fill
 */
public record ReftHyperparameters(
    float klCoef,
    float gamma,
    float lambda,
    float clipCoef,
    float valueClipCoef,
    float valueLossCoef,
    boolean valueDetach,
    AdvantageEstimator advantages,
    int ppoEpochs,
    int miniBatchSize,
    int microBatchSize,
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

  /** How advantages are estimated. */
  public enum AdvantageEstimator {
    /** Generalised advantage estimation with the value head, as ReFT ({@link Gae#estimate}). */
    GAE,
    /**
     * The critic-free group baseline, REINFORCE leave-one-out ({@link Gae#leaveOneOut}): each sample's
     * return minus the mean return of the other K − 1 samples of its question. A variant, not ReFT.
     */
    RLOO
  }

  public ReftHyperparameters {
    require(klCoef >= 0, "kl-coef must be >= 0");
    require(gamma > 0 && gamma <= 1, "gamma must be in (0, 1]");
    require(lambda >= 0 && lambda <= 1, "lambda must be in [0, 1]");
    require(clipCoef > 0, "clip-coef must be > 0");
    require(valueClipCoef > 0, "value-clip-coef must be > 0");
    require(valueLossCoef >= 0, "value-loss-coef must be >= 0");
    require(advantages != null, "advantages must be gae or rloo");
    require(ppoEpochs >= 1, "ppo-epochs must be >= 1");
    require(miniBatchSize >= 0, "mini-batch-size must be >= 0 (0 = the whole batch)");
    require(microBatchSize >= 0, "micro-batch-size must be >= 0 (0 = the whole mini-batch)");
    require(maxGradNorm > 0, "max-grad-norm must be > 0");
    require(learningRate > 0, "learning-rate must be > 0");
    require(weightDecay >= 0, "weight-decay must be >= 0");
    require(temperature > 0, "temperature must be > 0");
    require(topK >= 0, "top-k must be >= 0 (0 = off)");
    require(topP > 0 && topP <= 1, "top-p must be in (0, 1]");
    require(samplesPerQuestion >= 1, "samples-per-question must be >= 1");
    require(advantages != AdvantageEstimator.RLOO || samplesPerQuestion >= 2,
        "advantages=rloo needs samples-per-question >= 2 (the baseline is the other samples of the question), e.g. "
            + "4 with questions-per-batch 32 for the default 128 trajectories per update");
    require(questionsPerBatch >= 1, "questions-per-batch must be >= 1");
    require(maxNewTokens >= 1, "max-new-tokens must be >= 1");
    require(importanceWeightCap >= 1, "importance-weight-cap must be >= 1");
    require(maxPolicyLag >= 0, "max-policy-lag must be >= 0");
    require(maxInFlight == 0 || maxInFlight >= questionsPerBatch, "max-in-flight must be 0 (derived from the lag bound) "
        + "or at least questions-per-batch (" + questionsPerBatch + "), or a batch could never fill");
  }

  /** The official β of a chain-of-thought style: 0.01 for P-CoT, 0.05 otherwise. */
  public static float officialKlCoef(CotStyle style) {
    return style == CotStyle.PCOT ? 0.01f : 0.05f;
  }

  /** The shipped defaults for a style (see the field descriptions). */
  public static ReftHyperparameters defaults(CotStyle style) {
    return builder(style).build();
  }

  /** A builder holding the shipped defaults for a style. */
  public static Builder builder(CotStyle style) {
    return new Builder(style);
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    Builder b = new Builder(CotStyle.NCOT);
    b.klCoef = klCoef;
    b.gamma = gamma;
    b.lambda = lambda;
    b.clipCoef = clipCoef;
    b.valueClipCoef = valueClipCoef;
    b.valueLossCoef = valueLossCoef;
    b.valueDetach = valueDetach;
    b.advantages = advantages;
    b.ppoEpochs = ppoEpochs;
    b.miniBatchSize = miniBatchSize;
    b.microBatchSize = microBatchSize;
    b.maxGradNorm = maxGradNorm;
    b.learningRate = learningRate;
    b.weightDecay = weightDecay;
    b.temperature = temperature;
    b.topK = topK;
    b.topP = topP;
    b.samplesPerQuestion = samplesPerQuestion;
    b.questionsPerBatch = questionsPerBatch;
    b.maxNewTokens = maxNewTokens;
    b.importanceWeightCap = importanceWeightCap;
    b.maxPolicyLag = maxPolicyLag;
    b.maxInFlight = maxInFlight;
    return b;
  }

  /** A configuration key {@code reft.ppo.<name>} and how its text sets the builder. */
  private record Key(String name, BiConsumer<Builder, String> set) {}

  /** Every key, once. */
  private static final List<Key> KEYS = List.of(
      new Key("kl-coef", (b, v) -> b.klCoef = Float.parseFloat(v)),
      new Key("gamma", (b, v) -> b.gamma = Float.parseFloat(v)),
      new Key("lambda", (b, v) -> b.lambda = Float.parseFloat(v)),
      new Key("clip-coef", (b, v) -> b.clipCoef = Float.parseFloat(v)),
      new Key("value-clip-coef", (b, v) -> b.valueClipCoef = Float.parseFloat(v)),
      new Key("value-loss-coef", (b, v) -> b.valueLossCoef = Float.parseFloat(v)),
      new Key("value-detach", (b, v) -> b.valueDetach = parseBoolean(v)),
      new Key("advantages", (b, v) -> b.advantages = AdvantageEstimator.valueOf(v.toUpperCase(Locale.ROOT))),
      new Key("ppo-epochs", (b, v) -> b.ppoEpochs = Integer.parseInt(v)),
      new Key("mini-batch-size", (b, v) -> b.miniBatchSize = Integer.parseInt(v)),
      new Key("micro-batch-size", (b, v) -> b.microBatchSize = Integer.parseInt(v)),
      new Key("max-grad-norm", (b, v) -> b.maxGradNorm = Float.parseFloat(v)),
      new Key("learning-rate", (b, v) -> b.learningRate = Double.parseDouble(v)),
      new Key("weight-decay", (b, v) -> b.weightDecay = Double.parseDouble(v)),
      new Key("temperature", (b, v) -> b.temperature = Float.parseFloat(v)),
      new Key("top-k", (b, v) -> b.topK = Integer.parseInt(v)),
      new Key("top-p", (b, v) -> b.topP = Float.parseFloat(v)),
      new Key("samples-per-question", (b, v) -> b.samplesPerQuestion = Integer.parseInt(v)),
      new Key("questions-per-batch", (b, v) -> b.questionsPerBatch = Integer.parseInt(v)),
      new Key("max-new-tokens", (b, v) -> b.maxNewTokens = Integer.parseInt(v)),
      new Key("importance-weight-cap", (b, v) -> b.importanceWeightCap = Float.parseFloat(v)),
      new Key("max-policy-lag", (b, v) -> b.maxPolicyLag = Integer.parseInt(v)),
      new Key("max-in-flight", (b, v) -> b.maxInFlight = Integer.parseInt(v)));

  /**
   * The defaults overridden by {@code reft.ppo.<kebab-name>} keys.
   *
   * @throws IllegalArgumentException naming the key, for a value that does not parse or is out of range
   */
  public static ReftHyperparameters from(CotStyle style, Function<String, Optional<String>> config) {
    Builder b = builder(style);
    for (Key key : KEYS) {
      Optional<String> value = config.apply("reft.ppo." + key.name()).map(String::strip);
      if (value.isPresent()) {
        try {
          key.set().accept(b, value.get());
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("reft.ppo." + key.name() + ": '" + value.get() + "' is not valid", e);
        }
      }
    }
    return b.build();
  }

  /**
   * The requests the learner keeps outstanding: {@code maxInFlight}, or when 0 one batch of questions in lockstep
   * (a request sampled after the update it was issued for would be too old) and two batches otherwise (samplers
   * work on the next batch while the learner trains on this one).
   */
  public int requestsInFlight() {
    return maxInFlight > 0 ? maxInFlight : questionsPerBatch * (maxPolicyLag == 0 ? 1 : 2);
  }

  /** Trajectories per update: questionsPerBatch × K. */
  public int trajectoriesPerBatch() {
    return questionsPerBatch * samplesPerQuestion;
  }

  /** Sequences per gradient step: {@code miniBatchSize}, or the whole batch when it is 0. */
  public int sequencesPerStep(int batchSize) {
    return miniBatchSize == 0 ? batchSize : Math.min(miniBatchSize, batchSize);
  }

  /** Sequences per forward/backward pass of a mini-batch of {@code miniBatch}: the micro-batch, or all of it. */
  public int sequencesPerMicroBatch(int miniBatch) {
    return microBatchSize == 0 ? miniBatch : Math.min(microBatchSize, miniBatch);
  }

  /**
   * Refuses sampling settings whose log-probs the learner cannot reproduce: the learner scores tokens with the
   * policy's softmax at {@code temperature}, which is the samplers' distribution only without top-k and top-p.
   *
   * @throws IllegalArgumentException when top-k or top-p truncate the distribution
   */
  public ReftHyperparameters requireReproducibleSampling() {
    if (topK != 0 || topP != 1f) {
      throw new IllegalArgumentException("reft.ppo.top-k=" + topK + " and reft.ppo.top-p=" + topP + " are not "
          + "supported for PPO: the learner scores log-probs of the full softmax at reft.ppo.temperature, and the "
          + "importance weights and KL would be biased against a truncated sampling distribution; use top-k 0 and "
          + "top-p 1 (the official setting)");
    }
    return this;
  }

  /** The loss coefficients of {@link PpoLoss}. */
  public PpoLoss.Coefficients lossCoefficients() {
    return new PpoLoss.Coefficients(clipCoef, valueClipCoef,
        advantages == AdvantageEstimator.RLOO ? 0f : valueLossCoef, importanceWeightCap);
  }

  private static boolean parseBoolean(String v) {
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("expected true or false");
    };
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Builds {@link ReftHyperparameters}; starts from the shipped defaults of a style. */
  public static final class Builder {
    private float klCoef;
    private float gamma = 1.0f;
    private float lambda = 0.95f;
    private float clipCoef = 0.2f;
    private float valueClipCoef = 0.2f;
    private float valueLossCoef = 5.0f;
    private boolean valueDetach = false;
    private AdvantageEstimator advantages = AdvantageEstimator.GAE;
    private int ppoEpochs = 2;
    private int miniBatchSize = 0;
    private int microBatchSize = 0;
    private float maxGradNorm = 1.0f;
    private double learningRate = 1e-4;
    private double weightDecay = 0.0;
    private float temperature = 1.0f;
    private int topK = 0;
    private float topP = 1.0f;
    private int samplesPerQuestion = 1;
    private int questionsPerBatch = 128;
    private int maxNewTokens = 96;
    private float importanceWeightCap = 2.0f;
    private int maxPolicyLag = 0;
    private int maxInFlight = 0;

    private Builder(CotStyle style) {
      klCoef = officialKlCoef(style);
    }

    public Builder klCoef(float v) {
      klCoef = v;
      return this;
    }

    public Builder lambda(float v) {
      lambda = v;
      return this;
    }

    public Builder valueLossCoef(float v) {
      valueLossCoef = v;
      return this;
    }

    public Builder valueDetach(boolean v) {
      valueDetach = v;
      return this;
    }

    public Builder advantages(AdvantageEstimator v) {
      advantages = v;
      return this;
    }

    public Builder ppoEpochs(int v) {
      ppoEpochs = v;
      return this;
    }

    public Builder miniBatchSize(int v) {
      miniBatchSize = v;
      return this;
    }

    public Builder microBatchSize(int v) {
      microBatchSize = v;
      return this;
    }

    public Builder learningRate(double v) {
      learningRate = v;
      return this;
    }

    public Builder temperature(float v) {
      temperature = v;
      return this;
    }

    public Builder topK(int v) {
      topK = v;
      return this;
    }

    public Builder topP(float v) {
      topP = v;
      return this;
    }

    public Builder samplesPerQuestion(int v) {
      samplesPerQuestion = v;
      return this;
    }

    public Builder questionsPerBatch(int v) {
      questionsPerBatch = v;
      return this;
    }

    public Builder maxNewTokens(int v) {
      maxNewTokens = v;
      return this;
    }

    public Builder maxPolicyLag(int v) {
      maxPolicyLag = v;
      return this;
    }

    public Builder maxInFlight(int v) {
      maxInFlight = v;
      return this;
    }

    public ReftHyperparameters build() {
      return new ReftHyperparameters(klCoef, gamma, lambda, clipCoef, valueClipCoef, valueLossCoef, valueDetach,
          advantages, ppoEpochs, miniBatchSize, microBatchSize, maxGradNorm, learningRate, weightDecay, temperature, topK, topP,
          samplesPerQuestion, questionsPerBatch, maxNewTokens, importanceWeightCap, maxPolicyLag, maxInFlight);
    }
  }
}
