package dev.reft.learner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.reft.policy.ForwardOutput;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.TokenLogProbs;
import dev.reft.policy.train.AdamW;
import dev.reft.policy.train.GradientClipping;
import java.util.List;

/**
 * Supervised fine-tuning on (prompt, chain of thought) pairs: next-token cross-entropy on the target tokens
 * only (the prompt is masked out), averaged over the target tokens of the mini-batch; global grad-norm
 * clipping and AdamW with a linear warm-up then linear decay (the official warm-up stage stops early in a
 * longer schedule: the learning rate follows {@code scheduleSteps}, training may stop before).
 *
 * <p>Used by the warm-up ({@code sft}) and by the self-training baselines ({@code online-st},
 * {@code offline-st}), which fine-tune on the model's own correct samples.
 */
public final class SftTrainer {

  /** One training pair as token ids: BOS + prompt, and target + EOS. */
  public record Example(int[] prompt, int[] target) {
    public Example {
      if (prompt.length == 0 || target.length == 0) {
        throw new IllegalArgumentException("empty prompt or target");
      }
    }

    int[] sequence() {
      int[] all = new int[prompt.length + target.length];
      System.arraycopy(prompt, 0, all, 0, prompt.length);
      System.arraycopy(target, 0, all, prompt.length, target.length);
      return all;
    }
  }

  /** The learning-rate schedule: linear warm-up over {@code warmupSteps}, then linear decay to 0 at {@code totalSteps}. */
  public record Schedule(double peak, long warmupSteps, long totalSteps) {
    public double at(long step) {
      if (step < warmupSteps) {
        return peak * (step + 1) / warmupSteps;
      }
      long decaySteps = Math.max(1, totalSteps - warmupSteps);
      return peak * Math.max(0.0, 1.0 - (double) (step - warmupSteps) / decaySteps);
    }
  }

  private final PolicyModel policy;
  private final AdamW optimizer;
  private final Schedule schedule;
  private final double maxGradNorm;
  private final int padId;

  public SftTrainer(PolicyModel policy, AdamW optimizer, Schedule schedule, double maxGradNorm, int padId) {
    this.policy = policy;
    this.optimizer = optimizer;
    this.schedule = schedule;
    this.maxGradNorm = maxGradNorm;
    this.padId = padId;
  }

  /** What one step did. */
  public record StepStats(double loss, double gradNorm, double learningRate, long tokens) {}

  /** One optimizer step on a mini-batch; the learning rate follows the schedule at the optimizer's step count. */
  public StepStats step(List<Example> batch) {
    double lr = schedule.at(optimizer.stepCount());
    optimizer.setLearningRate(lr);
    List<int[]> sequences = batch.stream().map(Example::sequence).toList();
    int[] promptLengths = batch.stream().mapToInt(e -> e.prompt().length).toArray();
    int[] targetLengths = batch.stream().mapToInt(e -> e.target().length).toArray();
    double loss;
    long tokens = 0;
    for (int[] s : sequences) {
      tokens += s.length;
    }
    try (NDManager m = policy.newBatchManager()) {
      TokenBatch tb = TokenBatch.rightPadded(m, sequences, padId);
      int width = (int) tb.tokens().getShape().get(1) - 1;
      NDArray mask = new ResponseGrid(promptLengths, targetLengths, width).mask(m); // (B, T-1)
      try (GradientCollector collector = policy.newGradientCollector()) {
        ForwardOutput out = policy.forward(tb.tokens(), tb.attentionMask());
        NDArray logProbs = TokenLogProbs.nextTokenLogProbs(out.logits(), tb.tokens()); // (B, T-1)
        NDArray nll = logProbs.mul(mask).sum().neg().div(mask.sum()); //                 scalar
        collector.backward(nll);
        loss = nll.getFloat();
      }
    }
    double gradNorm = GradientClipping.clipGlobalNorm(policy, maxGradNorm);
    optimizer.step();
    policy.zeroGradients();
    return new StepStats(loss, gradNorm, lr, tokens);
  }
}
