package dev.reft.learner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.reft.learner.rl.Gae;
import dev.reft.learner.rl.PpoLoss;
import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.policy.ForwardOutput;
import dev.reft.policy.NoGrad;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.TokenLogProbs;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.train.AdamW;
import dev.reft.policy.train.GradientClipping;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One ReFT update from a batch of graded rollouts:
 *
 * <ol>
 *   <li>score the batch with the policy before the update (π_prox: log-probs and values, no gradient) and
 *       with the frozen reference π_ref;
 *   <li>KL-shaped rewards, GAE and whitened advantages ({@link Gae});
 *   <li>{@code ppoEpochs} passes over shuffled mini-batches of the clipped PPO loss ({@link PpoLoss}), each
 *       step with global grad-norm clipping and AdamW.
 * </ol>
 *
 * <p>Not thread-safe: one learner thread owns the policy.
 */
public final class PpoTrainer {

  private final PolicyModel policy;
  private final PolicyModel reference;
  private final AdamW optimizer;
  private final ReftHyperparameters hp;
  private final int padId;

  public PpoTrainer(PolicyModel policy, PolicyModel reference, AdamW optimizer, ReftHyperparameters hp, int padId) {
    this.policy = policy;
    this.reference = reference;
    this.optimizer = optimizer;
    this.hp = hp;
    this.padId = padId;
  }

  /** Per-token targets computed before the update, ragged (B, L_i). */
  private record Targets(float[][] proxLogProbs, float[][] refLogProbs, float[][] values) {}

  /**
   * Runs one update.
   *
   * @param batch the rollouts (B)
   * @param rng shuffles the mini-batches (part of the learner's resumable state)
   * @return the diagnostics PPO users look for
   */
  public Map<String, Double> update(List<Rollout> batch, Rng rng) {
    long t0 = System.nanoTime();
    int b = batch.size();
    Targets before = score(batch);

    float[] scores = new float[b];
    float[][] behaviour = new float[b][];
    for (int i = 0; i < b; i++) {
      scores[i] = batch.get(i).score();
      behaviour[i] = batch.get(i).behaviourLogProbs();
    }
    float[][] rewards = Gae.klShapedRewards(before.proxLogProbs(), before.refLogProbs(), scores, hp.klCoef());
    Gae.Estimate estimate = Gae.estimate(rewards, before.values(), hp.gamma(), hp.lambda());
    float[][] advantages = Gae.whiten(estimate.advantages());

    Accumulator acc = new Accumulator();
    PpoLoss.Coefficients coefficients = hp.lossCoefficients();
    long tokensTrained = 0;
    for (int epoch = 0; epoch < hp.ppoEpochs(); epoch++) {
      int[] order = rng.permutation(b);
      for (int from = 0; from < b; from += hp.miniBatchSize()) {
        int to = Math.min(b, from + hp.miniBatchSize());
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
          mbReturns[k - from] = estimate.returns()[i];
          tokensTrained += batch.get(i).prompt().length + batch.get(i).response().length;
        }
        step(mb, mbProx, mbBehaviour, mbValues, mbAdvantages, mbReturns, coefficients, acc);
      }
    }

    Map<String, Double> stats = new LinkedHashMap<>();
    stats.put("policy_loss", acc.mean("policy_loss"));
    stats.put("value_loss", acc.mean("value_loss"));
    stats.put("entropy", acc.mean("entropy"));
    stats.put("approx_kl", acc.mean("approx_kl"));
    stats.put("clip_fraction", acc.mean("clip_fraction"));
    stats.put("importance_weight", acc.mean("importance_weight"));
    stats.put("truncated_fraction", acc.mean("truncated_fraction"));
    stats.put("grad_norm", acc.mean("grad_norm"));
    stats.put("explained_variance", Gae.explainedVariance(before.values(), estimate.returns()));
    stats.put("kl_to_ref", meanSequenceSum(before.proxLogProbs(), before.refLogProbs()));
    stats.put("reward_mean", mean(scores));
    stats.put("accuracy", batch.stream().filter(Rollout::correct).count() / (double) b);
    stats.put("response_length", batch.stream().mapToInt(r -> r.response().length).average().orElse(0));
    stats.put("learning_rate", optimizer.learningRate());
    stats.put("tokens_per_second", tokensTrained / ((System.nanoTime() - t0) / 1e9));
    return stats;
  }

  /** π_prox log-probs and values of the policy before the update, and π_ref log-probs, per response token. */
  @SuppressWarnings("try")
  private Targets score(List<Rollout> batch) {
    int b = batch.size();
    float[][] prox = new float[b][];
    float[][] ref = new float[b][];
    float[][] values = new float[b][];
    try (NoGrad ignored = NoGrad.enter()) {
      for (int from = 0; from < b; from += hp.miniBatchSize()) {
        List<Rollout> chunk = batch.subList(from, Math.min(b, from + hp.miniBatchSize()));
        ResponseGrid grid = ResponseGrid.of(chunk);
        try (NDManager m = policy.newBatchManager()) {
          TokenBatch tokens = TokenBatch.rightPadded(m, chunk.stream().map(Rollout::sequence).toList(), padId);
          ForwardOutput out = policy.forward(tokens.tokens(), tokens.attentionMask());
          float[][] p = grid.extract(TokenLogProbs.nextTokenLogProbs(out.logits(), tokens.tokens())); // (B, L_i)
          float[][] v = grid.extract(out.values().get(new NDIndex(":, :-1"))); //                     (B, L_i)
          ForwardOutput refOut = reference.forward(tokens.tokens(), tokens.attentionMask());
          float[][] r = grid.extract(TokenLogProbs.nextTokenLogProbs(refOut.logits(), tokens.tokens()));
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
        ForwardOutput out = policy.forward(tokens.tokens(), tokens.attentionMask());
        logits = out.logits(); //                                                       (B, T, V)
        PpoLoss.Batch batch = new PpoLoss.Batch(
            TokenLogProbs.nextTokenLogProbs(logits, tokens.tokens()), //                 (B, T-1)
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
      acc.add("policy_loss", result.policyLoss().getFloat());
      acc.add("value_loss", result.valueLoss().getFloat());
      acc.add("approx_kl", result.approxKl());
      acc.add("clip_fraction", result.clipFraction());
      acc.add("importance_weight", result.importanceWeight());
      acc.add("truncated_fraction", result.truncatedFraction());
      try (NoGrad ignored = NoGrad.enter()) {
        NDArray entropy = TokenLogProbs.entropy(logits.stopGradient().get(new NDIndex(":, :-1, :"))); // (B, T-1)
        acc.add("entropy", PpoLoss.meanPerSequenceThenBatch(entropy, mask).getFloat());
      }
    }
    acc.add("grad_norm", GradientClipping.clipGlobalNorm(policy, hp.maxGradNorm()));
    optimizer.step();
    policy.zeroGradients();
  }

  private static double meanSequenceSum(float[][] a, float[][] b) {
    double total = 0;
    for (int i = 0; i < a.length; i++) {
      for (int t = 0; t < a[i].length; t++) {
        total += a[i][t] - b[i][t];
      }
    }
    return a.length == 0 ? 0 : total / a.length;
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
    private final Map<String, double[]> sums = new LinkedHashMap<>();

    void add(String name, double value) {
      double[] s = sums.computeIfAbsent(name, k -> new double[2]);
      s[0] += value;
      s[1]++;
    }

    double mean(String name) {
      double[] s = sums.get(name);
      return s == null || s[1] == 0 ? Double.NaN : s[0] / s[1];
    }
  }
}
