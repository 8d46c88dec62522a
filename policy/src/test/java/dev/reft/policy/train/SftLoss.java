package dev.reft.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.reft.policy.ForwardOutput;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.TokenLogProbs;
import java.util.List;

/** A test-side SFT loss: mean next-token cross-entropy over the response tokens (prompt masked out). */
final class SftLoss {

  private SftLoss() {}

  /**
   * @param sequences prompt + response ids
   * @param promptLengths the prompt length of each sequence; tokens from there on are trained
   * @return the scalar loss, attached to {@code batch}
   */
  static NDArray of(PolicyModel model, NDManager batch, List<int[]> sequences, int[] promptLengths) {
    TokenBatch b = TokenBatch.rightPadded(batch, sequences, 0);
    ForwardOutput out = model.forward(b.tokens(), b.attentionMask());
    NDArray logProbs = TokenLogProbs.nextTokenLogProbs(out.logits(), b.tokens()); // (B, T-1)
    int rows = sequences.size();
    int width = (int) logProbs.getShape().get(1);
    float[] weights = new float[rows * width];
    for (int r = 0; r < rows; r++) {
      for (int t = promptLengths[r] - 1; t < sequences.get(r).length - 1; t++) {
        weights[r * width + t] = 1f;
      }
    }
    NDArray mask = batch.create(weights, new Shape(rows, width)).toType(logProbs.getDataType(), false);
    return logProbs.mul(mask).sum().neg().div(mask.sum());
  }
}
