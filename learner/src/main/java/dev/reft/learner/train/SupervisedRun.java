package dev.reft.learner.train;

import dev.reft.policy.PolicyModel;
import dev.reft.policy.sampling.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Epochs of supervised fine-tuning over a fixed set of examples, shuffled anew each epoch: the warm-up, the
 * best-SFT baseline (which keeps the epoch with the best held-out accuracy) and Offline-ST's training on the
 * original data plus correct samples.
 */
public final class SupervisedRun {

  /** Told after every step. */
  public interface StepListener {
    /**
     * @param epoch the epoch, from 1
     * @param step the step within the epoch, from 1
     * @param stepsPerEpoch steps of a whole epoch
     * @param last the step's figures
     * @param epochMeanLoss the mean loss of the epoch so far
     * @param tokensPerSecond of the epoch so far
     */
    void afterStep(int epoch, int step, int stepsPerEpoch, SftTrainer.StepStats last, double epochMeanLoss,
        double tokensPerSecond);
  }

  /** Scores the model after an epoch (held-out greedy accuracy), for keeping the best epoch. */
  public interface EpochScore {
    double score(PolicyModel model, int epoch);
  }

  /** What one epoch did. */
  public record Epoch(int epoch, double meanLoss, double tokensPerSecond, double score) {}

  private final SftTrainer trainer;
  private final List<SftTrainer.Example> examples;
  private final int batchSize;

  /**
   * @param trainer the SFT step
   * @param examples the training set
   * @param batchSize sequences per step
   */
  public SupervisedRun(SftTrainer trainer, List<SftTrainer.Example> examples, int batchSize) {
    if (examples.isEmpty()) {
      throw new IllegalArgumentException("no examples to train on");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1");
    }
    this.trainer = trainer;
    this.examples = List.copyOf(examples);
    this.batchSize = batchSize;
  }

  /** Steps of one epoch. */
  public int stepsPerEpoch() {
    return (examples.size() + batchSize - 1) / batchSize;
  }

  /**
   * Trains one shuffled epoch.
   *
   * @param epoch its number, from 1 (for the listener)
   * @param rng the shuffle's stream
   * @param listener told after every step
   * @param running checked before each step: the epoch ends early when it turns false
   * @return the epoch's mean loss and speed (score NaN)
   */
  public Epoch epoch(int epoch, Rng rng, StepListener listener, BooleanSupplier running) {
    long t0 = System.nanoTime();
    List<SftTrainer.Example> shuffled = new ArrayList<>(examples.size());
    for (int i : rng.permutation(examples.size())) {
      shuffled.add(examples.get(i));
    }
    int steps = stepsPerEpoch();
    double lossSum = 0;
    long tokens = 0;
    int done = 0;
    for (int s = 0; s < steps && running.getAsBoolean(); s++) {
      SftTrainer.StepStats st = trainer.step(shuffled.subList(s * batchSize, Math.min(shuffled.size(), (s + 1) * batchSize)));
      lossSum += st.loss();
      tokens += st.tokens();
      done++;
      listener.afterStep(epoch, s + 1, steps, st, lossSum / done, tokens / ((System.nanoTime() - t0) / 1e9));
    }
    return new Epoch(epoch, done == 0 ? Double.NaN : lossSum / done, tokens / ((System.nanoTime() - t0) / 1e9),
        Double.NaN);
  }

  /**
   * Trains {@code epochs} epochs of {@code model} (the trainer's policy). With {@code keepBest}, scores the model
   * after each epoch and returns a copy of the best-scoring one (the caller closes it); otherwise returns
   * {@code model} itself.
   *
   * @param score scores each epoch, or null for no scoring (then {@code keepBest} is ignored)
   * @param onEpoch told after each epoch, with its score when scored
   */
  public PolicyModel train(PolicyModel model, int epochs, Rng rng, StepListener listener, EpochScore score,
      boolean keepBest, java.util.function.Consumer<Epoch> onEpoch, BooleanSupplier running) {
    double bestScore = Double.NEGATIVE_INFINITY;
    PolicyModel best = null;
    for (int e = 1; e <= epochs && running.getAsBoolean(); e++) {
      Epoch result = epoch(e, rng, listener, running);
      if (score != null && running.getAsBoolean()) {
        double s = score.score(model, e);
        result = new Epoch(e, result.meanLoss(), result.tokensPerSecond(), s);
        if (keepBest && s > bestScore) {
          bestScore = s;
          if (best != null) {
            best.close();
          }
          best = model.copy();
        }
      }
      onEpoch.accept(result);
    }
    return best != null ? best : model;
  }
}
