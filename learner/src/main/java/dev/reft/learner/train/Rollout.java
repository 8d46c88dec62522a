package dev.reft.learner.train;

import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;

/**
 * One graded trajectory as the trainers need it.
 *
 * @param prompt prompt token ids (starting with BOS)
 * @param response response token ids (ending with EOS unless truncated)
 * @param behaviourLogProbs log μ(a_t) recorded by the sampler, one per response token
 * @param score the task reward (1, 0.1 or 0)
 * @param outcome why the reward is what it is
 * @param policyVersion the version that sampled it
 * @param group the rollout request it answers: the K samples of one question share it (the leave-one-out
 *     baseline compares a sample with the others of its group)
 */
public record Rollout(int[] prompt, int[] response, float[] behaviourLogProbs, float score, Outcome outcome,
    long policyVersion, String group) {

  public Rollout {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("empty prompt");
    }
    if (response.length == 0) {
      throw new IllegalArgumentException("empty response");
    }
    if (behaviourLogProbs.length != response.length) {
      throw new IllegalArgumentException(behaviourLogProbs.length + " behaviour log-probs for " + response.length
          + " response tokens");
    }
  }

  /** From a rewarded trajectory read off Kafka. */
  public static Rollout of(RewardedTrajectory r) {
    SampledTrajectory t = r.getTrajectory();
    int[] prompt = t.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray();
    int[] response = t.getResponseTokenIds().stream().mapToInt(Integer::intValue).toArray();
    float[] logProbs = new float[t.getBehaviourLogprobs().size()];
    for (int i = 0; i < logProbs.length; i++) {
      logProbs[i] = t.getBehaviourLogprobs().get(i);
    }
    return new Rollout(prompt, response, logProbs, r.getReward(), r.getOutcome(), t.getPolicyVersion(),
        t.getRequestId());
  }

  /** Prompt followed by response. */
  public int[] sequence() {
    int[] all = new int[prompt.length + response.length];
    System.arraycopy(prompt, 0, all, 0, prompt.length);
    System.arraycopy(response, 0, all, prompt.length, response.length);
    return all;
  }

  public boolean correct() {
    return outcome == Outcome.CORRECT;
  }
}
