package dev.reft.learner.train;

import dev.reft.policy.PolicyModel;
import dev.reft.policy.train.AdamW;
import java.util.ArrayList;
import java.util.List;

/**
 * Offline self-training (the paper's Offline-ST baseline): the starting policy's own samples are graded once,
 * and the policy is fine-tuned on the correct ones together with the original annotated data, for a few
 * epochs with a linear warm-up over the first 1/30 of the steps and linear decay after.
 */
public final class OfflineStTrainer {

  private OfflineStTrainer() {}

  /** The share of the schedule spent warming the learning rate up. */
  static final double WARMUP_SHARE = 1.0 / 30;

  /**
   * The epochs to train.
   *
   * @param model the starting policy (trained in place)
   * @param original the annotated training examples
   * @param correctSamples the correct chains of thought sampled from the starting policy
   * @param epochs passes over both together
   * @param batchSize sequences per step
   * @param learningRate peak learning rate
   * @param padId the tokenizer's padding id
   */
  public static SupervisedRun epochs(PolicyModel model, AdamW optimizer, List<SftTrainer.Example> original,
      List<SftTrainer.Example> correctSamples, int epochs, int batchSize, double learningRate, int padId) {
    List<SftTrainer.Example> examples = new ArrayList<>(original);
    examples.addAll(correctSamples);
    long total = (long) ((examples.size() + batchSize - 1) / batchSize) * epochs;
    SftTrainer trainer = new SftTrainer(model, optimizer,
        new SftTrainer.Schedule(learningRate, Math.max(1, Math.round(total * WARMUP_SHARE)), total), 1.0, padId);
    return new SupervisedRun(trainer, examples, batchSize);
  }
}
