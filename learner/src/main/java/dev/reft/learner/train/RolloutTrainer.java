package dev.reft.learner.train;

import dev.reft.learner.metrics.Metric;
import dev.reft.policy.sampling.Rng;
import java.util.List;
import java.util.Map;

/** What the rollout loop does with a full batch of graded rollouts: a PPO update, or a self-training step. */
public interface RolloutTrainer {

  /**
   * Trains on the batch.
   *
   * @param batch the rollouts; the K samples of a question are all in it
   * @param rng the learner's resumable random stream (mini-batch shuffles)
   * @return the update's diagnostics
   */
  Map<Metric, Double> update(List<Rollout> batch, Rng rng);
}
