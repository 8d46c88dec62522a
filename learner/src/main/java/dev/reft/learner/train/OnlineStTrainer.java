package dev.reft.learner.train;

import dev.reft.learner.metrics.Metric;
import dev.reft.policy.sampling.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Online self-training (the paper's Online-ST baseline): each batch of the policy's own samples is graded, and
 * the policy takes SFT steps on the correct ones only, in mini-batches of {@code miniBatchSize}. No critic, no
 * KL term: it is supervised learning on whatever the current policy gets right.
 */
public final class OnlineStTrainer implements RolloutTrainer {

  private final SftTrainer sft;
  private final int miniBatchSize;

  /**
   * @param sft the SFT step (its schedule sets the learning rate)
   * @param miniBatchSize correct samples per step
   */
  public OnlineStTrainer(SftTrainer sft, int miniBatchSize) {
    if (miniBatchSize < 1) {
      throw new IllegalArgumentException("miniBatchSize must be >= 1");
    }
    this.sft = sft;
    this.miniBatchSize = miniBatchSize;
  }

  @Override
  public Map<Metric, Double> update(List<Rollout> batch, Rng rng) {
    List<SftTrainer.Example> correct = new ArrayList<>();
    for (Rollout r : batch) {
      if (r.correct()) {
        correct.add(new SftTrainer.Example(r.prompt(), r.response()));
      }
    }
    long t0 = System.nanoTime();
    double lossSum = 0;
    long tokens = 0;
    double learningRate = Double.NaN;
    int steps = 0;
    for (int from = 0; from < correct.size(); from += miniBatchSize) {
      SftTrainer.StepStats step = sft.step(correct.subList(from, Math.min(correct.size(), from + miniBatchSize)));
      lossSum += step.loss();
      tokens += step.tokens();
      learningRate = step.learningRate();
      steps++;
    }
    Map<Metric, Double> stats = Metric.newMap();
    if (steps > 0) { // a batch without a correct sample trains nothing: no loss, no speed
      stats.put(Metric.SFT_LOSS, lossSum / steps);
      stats.put(Metric.TOKENS_PER_SECOND, tokens / ((System.nanoTime() - t0) / 1e9));
      stats.put(Metric.LEARNING_RATE, learningRate);
    }
    stats.put(Metric.REWARD_MEAN, batch.stream().mapToDouble(Rollout::score).average().orElse(0));
    stats.put(Metric.ACCURACY, batch.isEmpty() ? 0 : correct.size() / (double) batch.size());
    stats.put(Metric.TRAINED_SAMPLES, (double) correct.size());
    stats.put(Metric.RESPONSE_LENGTH, batch.stream().mapToInt(r -> r.response().length).average().orElse(0));
    return stats;
  }
}
