package dev.reft.learner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.reft.learner.metrics.Metric;
import dev.reft.learner.rl.Gae;
import dev.reft.learner.rl.PpoLoss;
import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.learner.rl.ReftHyperparameters.AdvantageEstimator;
import dev.reft.policy.ForwardOutput;
import dev.reft.policy.NoGrad;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.TokenLogProbs;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.train.AdamW;
import dev.reft.policy.train.GradientClipping;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One ReFT update from a batch of graded rollouts:
 *
 * <ol>
 *   <li>score the batch with the policy before the update (π_prox: log-probs and values, no gradient) and
 *       with the frozen reference π_ref, all at the sampling temperature;
 *   <li>KL-shaped rewards from the behaviour log-probs ({@link Gae#klShapedRewards}), then advantages: GAE with
 *       the value head (ReFT) or the leave-one-out group baseline (the RLOO variant), whitened over the batch;
 *   <li>{@code ppoEpochs} passes over shuffled mini-batches of the clipped PPO loss ({@link PpoLoss}); by default
 *       one mini-batch is the whole batch, so an update takes {@code ppoEpochs} AdamW steps, each after global
 *       grad-norm clipping.
 * </ol>
 *
 * <p>Not thread-safe: one learner thread owns the policy.
 */
public final class PpoTrainer implements RolloutTrainer {

  private final PolicyModel policy;
  private final PolicyModel reference;
  private final AdamW optimizer;
  private final ReftHyperparameters hp;
  private final int padId;

  public PpoTrainer(PolicyModel policy, PolicyModel reference, AdamW optimizer, ReftHyperparameters hp, int padId) {
    this.policy = policy;
    this.reference = reference;
    this.optimizer = optimizer;
    this.hp = hp.requireReproducibleSampling();
    this.padId = padId;
  }

  /** Per-token targets computed before the update, ragged (B, L_i). */
  private record Targets(float[][] proxLogProbs, float[][] refLogProbs, float[][] values) {}

  /**
   * Runs one update.
   *
   * @param batch the rollouts (B); for RLOO every question's samples
   * @param rng shuffles the mini-batches (part of the learner's resumable state)
   * @return the diagnostics PPO users look for
   */
  @Override
  public Map<Metric, Double> update(List<Rollout> batch, Rng rng) {
    long t0 = System.nanoTime();
    int b = batch.size();
    Targets before = score(batch);
    long scored = System.nanoTime();

    float[] scores = new float[b];
    float[][] behaviour = new float[b][];
    for (int i = 0; i < b; i++) {
      scores[i] = batch.get(i).score();
      behaviour[i] = batch.get(i).behaviourLogProbs();
    }
    float[][] rewards = Gae.klShapedRewards(behaviour, before.refLogProbs(), scores, hp.klCoef()); // (B, L_i)
    float[][] rawAdvantages;
    float[][] returns;
    if (hp.advantages() == AdvantageEstimator.RLOO) {
      rawAdvantages = Gae.leaveOneOut(rewards, groupIndex(batch), hp.gamma());
      returns = before.values(); // no critic: the value loss is weighted 0
    } else {
      Gae.Estimate estimate = Gae.estimate(rewards, before.values(), hp.gamma(), hp.lambda());
      rawAdvantages = estimate.advantages();
      returns = estimate.returns();
    }
    float[][] advantages = Gae.whiten(rawAdvantages);

    Accumulator acc = new Accumulator();
    PpoLoss.Coefficients coefficients = hp.lossCoefficients();
    int perStep = hp.sequencesPerStep(b);
    long tokensTrained = 0;
    for (int epoch = 0; epoch < hp.ppoEpochs(); epoch++) {
      int[] order = rng.permutation(b);
      for (int from = 0; from < b; from += perStep) {
        int to = Math.min(b, from + perStep);
        List<Rollout> mb = new ArrayList<>(to - from);
        float[][] mbProx = new float[to - from][];
        float[][] mbBehaviour = new float[to - from][];
        float[][] mbValues = new float[to - from][];
        float[][] mbAdvantages = new float[to - from][];
        float[][] mbReturns = new float[to - from][];
        for (int k = from; k < to; k++) {
          int i = order[k];
          mb.add(batch.get(i));
          mbProx[k - from] = before.proxLogProbs()[i];
          mbBehaviour[k - from] = behaviour[i];
          mbValues[k - from] = before.values()[i];
          mbAdvantages[k - from] = advantages[i];
          mbReturns[k - from] = returns[i];
          tokensTrained += batch.get(i).prompt().length + batch.get(i).response().length;
        }
        step(mb, mbProx, mbBehaviour, mbValues, mbAdvantages, mbReturns, coefficients, acc);
      }
    }

    Map<Metric, Double> stats = Metric.newMap();
    for (Metric m : List.of(Metric.POLICY_LOSS, Metric.VALUE_LOSS, Metric.ENTROPY, Metric.APPROX_KL,
        Metric.CLIP_FRACTION, Metric.IMPORTANCE_WEIGHT, Metric.TRUNCATED_FRACTION, Metric.GRAD_NORM)) {
      stats.put(m, acc.mean(m));
    }
    stats.put(Metric.EXPLAINED_VARIANCE, hp.advantages() == AdvantageEstimator.GAE
        ? Gae.explainedVariance(before.values(), returns) : Double.NaN);
    stats.put(Metric.KL_TO_REF, Gae.klToReference(behaviour, before.refLogProbs()));
    stats.put(Metric.REWARD_MEAN, mean(scores));
    stats.put(Metric.ACCURACY, batch.stream().filter(Rollout::correct).count() / (double) b);
    stats.put(Metric.RESPONSE_LENGTH, batch.stream().mapToInt(r -> r.response().length).average().orElse(0));
    stats.put(Metric.LEARNING_RATE, optimizer.learningRate());
    stats.put(Metric.TOKENS_PER_SECOND, tokensTrained / ((System.nanoTime() - t0) / 1e9));
    stats.put(Metric.SCORE_SECONDS, (scored - t0) / 1e9);
    stats.put(Metric.PPO_SECONDS, (System.nanoTime() - scored) / 1e9);
    return stats;
  }

  /** Each rollout's question as a small integer: its position among the batch's distinct groups. */
  private static int[] groupIndex(List<Rollout> batch) {
    Map<String, Integer> ids = new HashMap<>();
    int[] out = new int[batch.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ids.computeIfAbsent(batch.get(i).group(), g -> ids.size());
    }
    return out;
  }

  /**
   * π_prox log-probs and values of the policy before the update, and π_ref log-probs, per response token, at the
   * sampling temperature.
   */
  @SuppressWarnings("try")
  private Targets score(List<Rollout> batch) {
    int b = batch.size();
    int perStep = hp.sequencesPerStep(b);
    float[][] prox = new float[b][];
    float[][] ref = new float[b][];
    float[][] values = new float[b][];
    try (NoGrad ignored = NoGrad.enter()) {
      for (int from = 0; from < b; from += perStep) {
        List<Rollout> chunk = batch.subList(from, Math.min(b, from + perStep));
        ResponseGrid grid = ResponseGrid.of(chunk);
        try (NDManager m = policy.newBatchManager()) {
          TokenBatch tokens = TokenBatch.rightPadded(m, chunk.stream().map(Rollout::sequence).toList(), padId);
          ForwardOutput out = policy.forward(tokens.tokens(), tokens.attentionMask());
          float[][] p = grid.extract(logProbs(out.logits(), tokens.tokens())); //            (B, L_i)
          float[][] v = grid.extract(out.values().get(new NDIndex(":, :-1"))); //             (B, L_i)
          ForwardOutput refOut = reference.forward(tokens.tokens(), tokens.attentionMask());
          float[][] r = grid.extract(logProbs(refOut.logits(), tokens.tokens())); //         (B, L_i)
          for (int k = 0; k < chunk.size(); k++) {
            prox[from + k] = p[k];
            values[from + k] = v[k];
            ref[from + k] = r[k];
          }
        }
      }
    }
    return new Targets(prox, ref, values);
  }

  /**
   * The learner's log-probs of each rollout's response tokens under the current policy, computed as the update
   * computes them (at the sampling temperature) — (B, L_i). For checking them against the samplers' behaviour
   * log-probs.
   */
  float[][] scoreResponses(List<Rollout> batch) {
    return score(batch).proxLogProbs();
  }

  /** log π(a_{t+1} | s_t) at the sampling temperature — (B, T − 1). */
  private NDArray logProbs(NDArray logits, NDArray tokens) {
    return TokenLogProbs.nextTokenLogProbs(TokenLogProbs.withTemperature(logits, hp.temperature()), tokens);
  }

  /** One gradient step on a mini-batch. */
  private void step(List<Rollout> mb, float[][] prox, float[][] behaviour, float[][] oldValues, float[][] advantages,
      float[][] returns, PpoLoss.Coefficients coefficients, Accumulator acc) {
    ResponseGrid grid = ResponseGrid.of(mb);
    try (NDManager m = policy.newBatchManager()) {
      TokenBatch tokens = TokenBatch.rightPadded(m, mb.stream().map(Rollout::sequence).toList(), padId);
      NDArray mask = grid.mask(m); // (B, T-1)
      PpoLoss.Result result;
      NDArray logits;
      try (GradientCollector collector = policy.newGradientCollector()) {
        ForwardOutput out = hp.valueDetach()
            ? policy.forwardDetachedValue(tokens.tokens(), tokens.attentionMask())
            : policy.forward(tokens.tokens(), tokens.attentionMask());
        logits = out.logits(); //                                                       (B, T, V)
        PpoLoss.Batch batch = new PpoLoss.Batch(
            logProbs(logits, tokens.tokens()), //                                        (B, T-1)
            out.values().get(new NDIndex(":, :-1")), //                                   (B, T-1)
            grid.place(m, prox),
            grid.place(m, behaviour),
            grid.place(m, oldValues),
            grid.place(m, advantages),
            grid.place(m, returns),
            mask);
        result = PpoLoss.compute(batch, coefficients, m);
        collector.backward(result.loss());
      }
      acc.add(Metric.POLICY_LOSS, result.policyLoss().getFloat());
      acc.add(Metric.VALUE_LOSS, result.valueLoss().getFloat());
      acc.add(Metric.APPROX_KL, result.approxKl());
      acc.add(Metric.CLIP_FRACTION, result.clipFraction());
      acc.add(Metric.IMPORTANCE_WEIGHT, result.importanceWeight());
      acc.add(Metric.TRUNCATED_FRACTION, result.truncatedFraction());
      try (NoGrad ignored = NoGrad.enter()) {
        NDArray entropy = TokenLogProbs.entropy(logits.stopGradient().get(new NDIndex(":, :-1, :"))); // (B, T-1)
        acc.add(Metric.ENTROPY, PpoLoss.meanPerSequenceThenBatch(entropy, mask).getFloat());
      }
    }
    acc.add(Metric.GRAD_NORM, GradientClipping.clipGlobalNorm(policy, hp.maxGradNorm()));
    optimizer.step();
    policy.zeroGradients();
  }

  private static double mean(float[] x) {
    double s = 0;
    for (float v : x) {
      s += v;
    }
    return x.length == 0 ? 0 : s / x.length;
  }

  /** Running means of per-step diagnostics. */
  static final class Accumulator {
    private final Map<Metric, double[]> sums = new EnumMap<>(Metric.class);

    void add(Metric metric, double value) {
      double[] s = sums.computeIfAbsent(metric, k -> new double[2]);
      s[0] += value;
      s[1]++;
    }

    double mean(Metric metric) {
      double[] s = sums.get(metric);
      return s == null || s[1] == 0 ? Double.NaN : s[0] / s[1];
    }
  }
}
