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
 *   <li>score the batch with the policy before the update (π_prox: log-probs and values) and with the frozen
 *       reference π_ref, all at the sampling temperature (with one mini-batch per epoch, the default, π_prox comes
 *       from the first gradient step's own forward pass);
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
  private final boolean fuseFirstStep;

  public PpoTrainer(PolicyModel policy, PolicyModel reference, AdamW optimizer, ReftHyperparameters hp, int padId) {
    this(policy, reference, optimizer, hp, padId, true);
  }

  /** @param fuseFirstStep take π_prox from the first step's forward when one mini-batch is the whole batch */
  PpoTrainer(PolicyModel policy, PolicyModel reference, AdamW optimizer, ReftHyperparameters hp, int padId,
      boolean fuseFirstStep) {
    this.fuseFirstStep = fuseFirstStep;
    this.policy = policy;
    this.reference = reference;
    this.optimizer = optimizer;
    this.hp = hp.requireReproducibleSampling();
    this.padId = padId;
  }

  /**
   * Per-token figures of the batch before the update, ragged (B, L_i): π_prox log-probs and values of the policy,
   * π_ref log-probs, and the advantages and returns computed from them.
   */
  private record Before(float[][] prox, float[][] values, float[][] ref, float[][] advantages, float[][] returns) {}

  /**
   * Runs one update. When one mini-batch is the whole batch (the default), the first gradient step's own forward
   * pass provides π_prox and the values — the policy has not moved yet — so the policy is run once less.
   *
   * @param batch the rollouts (B); for RLOO every question's samples
   * @param rng shuffles the mini-batches (part of the learner's resumable state)
   * @return the diagnostics PPO users look for
   */
  @Override
  public Map<Metric, Double> update(List<Rollout> rollouts, Rng rng) {
    long t0 = System.nanoTime();
    List<Rollout> batch = hp.advantages() == AdvantageEstimator.RLOO ? withBaselines(rollouts) : rollouts;
    int b = batch.size();
    int perStep = hp.sequencesPerStep(b);
    boolean fused = fuseFirstStep && perStep >= b;
    float[][] ref = referenceLogProbs(batch);
    Before before = null;
    if (!fused) {
      float[][][] policyScores = policyLogProbsAndValues(batch);
      before = before(batch, policyScores[0], policyScores[1], ref);
    }
    long scored = System.nanoTime();

    Accumulator acc = new Accumulator();
    PpoLoss.Coefficients coefficients = hp.lossCoefficients();
    long tokensTrained = 0;
    for (int epoch = 0; epoch < hp.ppoEpochs(); epoch++) {
      int[] order = rng.permutation(b);
      for (int start = 0; start < b; start += perStep) {
        int from = start;
        int to = Math.min(b, from + perStep);
        List<Rollout> mb = new ArrayList<>(to - from);
        for (int k = from; k < to; k++) {
          mb.add(batch.get(order[k]));
          tokensTrained += batch.get(order[k]).prompt().length + batch.get(order[k]).response().length;
        }
        if (before == null) { // fused: this step's forward is π_prox's
          float[][] mbRef = rows(ref, order, from, to);
          Before[] computed = new Before[1];
          step(mb, (prox, values) -> computed[0] = before(mb, prox, values, mbRef), coefficients, acc);
          before = unpermute(computed[0], order, b);
        } else {
          Before known = before;
          step(mb, (prox, values) -> new Before(rows(known.prox(), order, from, to), rows(known.values(), order, from, to),
              null, rows(known.advantages(), order, from, to), rows(known.returns(), order, from, to)), coefficients, acc);
        }
      }
    }

    float[] scores = scores(batch);
    Map<Metric, Double> stats = Metric.newMap();
    for (Metric m : List.of(Metric.POLICY_LOSS, Metric.VALUE_LOSS, Metric.ENTROPY, Metric.APPROX_KL,
        Metric.CLIP_FRACTION, Metric.IMPORTANCE_WEIGHT, Metric.TRUNCATED_FRACTION, Metric.GRAD_NORM)) {
      stats.put(m, acc.mean(m));
    }
    stats.put(Metric.EXPLAINED_VARIANCE, hp.advantages() == AdvantageEstimator.GAE
        ? Gae.explainedVariance(before.values(), before.returns()) : Double.NaN);
    stats.put(Metric.KL_TO_REF, Gae.klToReference(behaviour(batch), ref));
    stats.put(Metric.REWARD_MEAN, mean(scores));
    stats.put(Metric.ACCURACY, batch.stream().filter(Rollout::correct).count() / (double) b);
    stats.put(Metric.RESPONSE_LENGTH, batch.stream().mapToInt(r -> r.response().length).average().orElse(0));
    stats.put(Metric.LEARNING_RATE, optimizer.learningRate());
    stats.put(Metric.TOKENS_PER_SECOND, tokensTrained / ((System.nanoTime() - t0) / 1e9));
    stats.put(Metric.SCORE_SECONDS, (scored - t0) / 1e9);
    stats.put(Metric.PPO_SECONDS, (System.nanoTime() - scored) / 1e9);
    return stats;
  }

  /**
   * KL-shaped rewards from the behaviour log-probs, then advantages — GAE with the values (ReFT) or the
   * leave-one-out group baseline (RLOO) — whitened over these rows, and the value targets.
   */
  private Before before(List<Rollout> rows, float[][] prox, float[][] values, float[][] ref) {
    float[][] rewards = Gae.klShapedRewards(behaviour(rows), ref, scores(rows), hp.klCoef()); // (B, L_i)
    float[][] rawAdvantages;
    float[][] returns;
    if (hp.advantages() == AdvantageEstimator.RLOO) {
      rawAdvantages = Gae.leaveOneOut(rewards, groupIndex(rows), hp.gamma());
      returns = values; // no critic: the value loss is weighted 0
    } else {
      Gae.Estimate estimate = Gae.estimate(rewards, values, hp.gamma(), hp.lambda());
      rawAdvantages = estimate.advantages();
      returns = estimate.returns();
    }
    return new Before(prox, values, ref, Gae.whiten(rawAdvantages), returns);
  }

  /** Rows {@code order[from..to)} of a ragged array. */
  private static float[][] rows(float[][] all, int[] order, int from, int to) {
    float[][] out = new float[to - from][];
    for (int k = from; k < to; k++) {
      out[k - from] = all[order[k]];
    }
    return out;
  }

  /** Back from the rows of a whole-batch permutation to the batch's order. */
  private static Before unpermute(Before permuted, int[] order, int b) {
    float[][] prox = new float[b][];
    float[][] values = new float[b][];
    float[][] ref = new float[b][];
    float[][] advantages = new float[b][];
    float[][] returns = new float[b][];
    for (int k = 0; k < b; k++) {
      prox[order[k]] = permuted.prox()[k];
      values[order[k]] = permuted.values()[k];
      ref[order[k]] = permuted.ref()[k];
      advantages[order[k]] = permuted.advantages()[k];
      returns[order[k]] = permuted.returns()[k];
    }
    return new Before(prox, values, ref, advantages, returns);
  }

  private static float[] scores(List<Rollout> rows) {
    float[] scores = new float[rows.size()];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = rows.get(i).score();
    }
    return scores;
  }

  private static float[][] behaviour(List<Rollout> rows) {
    float[][] out = new float[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = rows.get(i).behaviourLogProbs();
    }
    return out;
  }

  /**
   * The rollouts whose question has at least one other sample: the leave-one-out baseline of a lone sample (its
   * question's others all dropped as stale or empty) does not exist. Refused when none is left.
   */
  private static List<Rollout> withBaselines(List<Rollout> rollouts) {
    Map<String, Long> perQuestion = new HashMap<>();
    rollouts.forEach(r -> perQuestion.merge(r.group(), 1L, Long::sum));
    List<Rollout> kept = rollouts.stream().filter(r -> perQuestion.get(r.group()) >= 2).toList();
    if (kept.isEmpty()) {
      throw new IllegalArgumentException("no question of the batch has two samples: the leave-one-out baseline "
          + "needs at least 2 samples per question");
    }
    return kept;
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

  /** π_prox log-probs and values of the policy before the update, per response token: {prox, values}, (B, L_i). */
  private float[][][] policyLogProbsAndValues(List<Rollout> batch) {
    float[][] prox = new float[batch.size()][];
    float[][] values = new float[batch.size()][];
    scoreInMicroBatches(policy, batch, (rows, grid, out, tokens) -> {
      float[][] p = grid.extract(logProbs(out.logits(), tokens)); //                   (b, L_i)
      float[][] v = grid.extract(out.values().get(new NDIndex(":, :-1"))); //           (b, L_i)
      for (int k = 0; k < rows.length; k++) {
        prox[rows[k]] = p[k];
        values[rows[k]] = v[k];
      }
    });
    return new float[][][] {prox, values};
  }

  /** π_ref log-probs of the frozen reference per response token, at the sampling temperature — (B, L_i). */
  private float[][] referenceLogProbs(List<Rollout> batch) {
    float[][] ref = new float[batch.size()][];
    scoreInMicroBatches(reference, batch, (rows, grid, out, tokens) -> {
      float[][] r = grid.extract(logProbs(out.logits(), tokens)); //                   (b, L_i)
      for (int k = 0; k < rows.length; k++) {
        ref[rows[k]] = r[k];
      }
    });
    return ref;
  }

  /** What to read from one micro-batch's forward pass; {@code rows} index the batch. */
  private interface Reader {
    void read(int[] rows, ResponseGrid grid, ForwardOutput out, NDArray tokens);
  }

  /** Forward passes without gradient over micro-batches of similar length. */
  @SuppressWarnings("try")
  private void scoreInMicroBatches(PolicyModel model, List<Rollout> batch, Reader reader) {
    try (NoGrad ignored = NoGrad.enter()) {
      for (int[] rows : byLength(batch, hp.sequencesPerMicroBatch(batch.size()))) {
        List<Rollout> chunk = new ArrayList<>(rows.length);
        for (int i : rows) {
          chunk.add(batch.get(i));
        }
        try (NDManager m = model.newBatchManager()) {
          TokenBatch tokens = TokenBatch.rightPadded(m, chunk.stream().map(Rollout::sequence).toList(), padId);
          reader.read(rows, ResponseGrid.of(chunk), model.forward(tokens.tokens(), tokens.attentionMask()),
              tokens.tokens());
        }
      }
    }
  }

  /**
   * The learner's log-probs of each rollout's response tokens under the current policy, computed as the update
   * computes them (at the sampling temperature) — (B, L_i). For checking them against the samplers' behaviour
   * log-probs.
   */
  float[][] scoreResponses(List<Rollout> batch) {
    return policyLogProbsAndValues(batch)[0];
  }

  /** log π(a_{t+1} | s_t) at the sampling temperature — (B, T − 1). */
  private NDArray logProbs(NDArray logits, NDArray tokens) {
    return TokenLogProbs.nextTokenLogProbs(TokenLogProbs.withTemperature(logits, hp.temperature()), tokens);
  }

  /** A step's targets, given what its own forward pass says of the policy now (log-probs and values). */
  private interface StepTargets {
    Before of(float[][] logProbsNow, float[][] valuesNow);
  }

  /** One micro-batch of a step: its rows (indices into the mini-batch), padded tokens and forward outputs. */
  private record Micro(int[] rows, ResponseGrid grid, NDArray mask, NDArray logProbs, NDArray values, NDArray logits) {}

  /**
   * One gradient step on a mini-batch. The mini-batch runs in micro-batches of sequences of similar length (less
   * padding), whose losses, weighted by their share of the sequences, add up to the mini-batch's loss before the
   * one backward pass: the same gradient as one big forward, for less work.
   */
  private void step(List<Rollout> mb, StepTargets targetsOf, PpoLoss.Coefficients coefficients, Accumulator acc) {
    int n = mb.size();
    try (NDManager m = policy.newBatchManager()) {
      List<Micro> micros = new ArrayList<>();
      NDArray loss = null;
      float[][] logProbsNow = new float[n][];
      float[][] valuesNow = new float[n][];
      try (GradientCollector collector = policy.newGradientCollector()) {
        for (int[] rows : byLength(mb, hp.sequencesPerMicroBatch(n))) {
          List<Rollout> chunk = new ArrayList<>(rows.length);
          for (int i : rows) {
            chunk.add(mb.get(i));
          }
          ResponseGrid grid = ResponseGrid.of(chunk);
          TokenBatch tokens = TokenBatch.rightPadded(m, chunk.stream().map(Rollout::sequence).toList(), padId);
          ForwardOutput out = hp.valueDetach()
              ? policy.forwardDetachedValue(tokens.tokens(), tokens.attentionMask())
              : policy.forward(tokens.tokens(), tokens.attentionMask());
          NDArray logProbs = logProbs(out.logits(), tokens.tokens()); //                 (b, T-1)
          NDArray values = out.values().get(new NDIndex(":, :-1")); //                    (b, T-1)
          float[][] lp = grid.extract(logProbs.stopGradient());
          float[][] v = grid.extract(values.stopGradient());
          for (int k = 0; k < rows.length; k++) {
            logProbsNow[rows[k]] = lp[k];
            valuesNow[rows[k]] = v[k];
          }
          micros.add(new Micro(rows, grid, grid.mask(m), logProbs, values, out.logits()));
        }
        Before t = targetsOf.of(logProbsNow, valuesNow);
        float[][] behaviour = behaviour(mb);
        for (Micro micro : micros) {
          PpoLoss.Batch batch = new PpoLoss.Batch(
              micro.logProbs(),
              micro.values(),
              micro.grid().place(m, pick(t.prox(), micro.rows())),
              micro.grid().place(m, pick(behaviour, micro.rows())),
              micro.grid().place(m, pick(t.values(), micro.rows())),
              micro.grid().place(m, pick(t.advantages(), micro.rows())),
              micro.grid().place(m, pick(t.returns(), micro.rows())),
              micro.mask());
          PpoLoss.Result result = PpoLoss.compute(batch, coefficients, m);
          double share = micro.rows().length / (double) n;
          NDArray weighted = result.loss().mul(m.create((float) share));
          loss = loss == null ? weighted : loss.add(weighted);
          acc.add(Metric.POLICY_LOSS, result.policyLoss().getFloat(), share);
          acc.add(Metric.VALUE_LOSS, result.valueLoss().getFloat(), share);
          acc.add(Metric.APPROX_KL, result.approxKl(), share);
          acc.add(Metric.CLIP_FRACTION, result.clipFraction(), share);
          acc.add(Metric.IMPORTANCE_WEIGHT, result.importanceWeight(), share);
          acc.add(Metric.TRUNCATED_FRACTION, result.truncatedFraction(), share);
        }
        collector.backward(loss);
      }
      try (NoGrad ignored = NoGrad.enter()) {
        for (Micro micro : micros) {
          NDArray entropy = TokenLogProbs.entropy(micro.logits().stopGradient().get(new NDIndex(":, :-1, :"))); // (b, T-1)
          acc.add(Metric.ENTROPY, PpoLoss.meanPerSequenceThenBatch(entropy, micro.mask()).getFloat(),
              micro.rows().length / (double) n);
        }
      }
    }
    acc.add(Metric.GRAD_NORM, GradientClipping.clipGlobalNorm(policy, hp.maxGradNorm()), 1.0);
    optimizer.step();
    policy.zeroGradients();
  }

  /** Indices of the rollouts sorted by sequence length, in chunks of at most {@code size}. */
  private static List<int[]> byLength(List<Rollout> rollouts, int size) {
    Integer[] order = new Integer[rollouts.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, java.util.Comparator.comparingInt(i -> rollouts.get(i).sequence().length));
    List<int[]> chunks = new ArrayList<>();
    for (int from = 0; from < order.length; from += size) {
      int[] chunk = new int[Math.min(size, order.length - from)];
      for (int k = 0; k < chunk.length; k++) {
        chunk[k] = order[from + k];
      }
      chunks.add(chunk);
    }
    return chunks;
  }

  private static float[][] pick(float[][] all, int[] rows) {
    float[][] out = new float[rows.length][];
    for (int k = 0; k < rows.length; k++) {
      out[k] = all[rows[k]];
    }
    return out;
  }

  private static double mean(float[] x) {
    double s = 0;
    for (float v : x) {
      s += v;
    }
    return x.length == 0 ? 0 : s / x.length;
  }

  /** Weighted running means of per-step diagnostics. */
  static final class Accumulator {
    private final Map<Metric, double[]> sums = new EnumMap<>(Metric.class);

    void add(Metric metric, double value, double weight) {
      double[] s = sums.computeIfAbsent(metric, k -> new double[2]);
      s[0] += weight * value;
      s[1] += weight;
    }

    double mean(Metric metric) {
      double[] s = sums.get(metric);
      return s == null || s[1] == 0 ? Double.NaN : s[0] / s[1];
    }
  }
}
