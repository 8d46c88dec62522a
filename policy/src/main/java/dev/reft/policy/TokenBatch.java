package dev.reft.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Sequences of different lengths as one right-padded batch for the training forward.
 *
 * <p>Shapes: B sequences, T the longest length.
 *
 * @param tokens (B, T) int64 token ids, padded with the pad id
 * @param attentionMask (B, T) float32: 1 for real tokens, 0 for padding
 * @param lengths the real length of each sequence
 */
public record TokenBatch(NDArray tokens, NDArray attentionMask, int[] lengths) {

  /**
   * Pads sequences on the right.
   *
   * @param manager the batch's manager (owns the arrays)
   * @param sequences token ids, each non-empty (e.g. prompt ids followed by response ids)
   * @param padId the padding id
   * @return the batch
   */
  public static TokenBatch rightPadded(NDManager manager, List<int[]> sequences, int padId) {
    int b = sequences.size();
    if (b == 0) {
      throw new IllegalArgumentException("empty batch");
    }
    int t = 0;
    for (int[] s : sequences) {
      if (s.length == 0) {
        throw new IllegalArgumentException("empty sequence in batch");
      }
      t = Math.max(t, s.length);
    }
    long[] ids = new long[b * t];
    float[] mask = new float[b * t];
    int[] lengths = new int[b];
    for (int r = 0; r < b; r++) {
      int[] s = sequences.get(r);
      lengths[r] = s.length;
      for (int i = 0; i < t; i++) {
        ids[r * t + i] = i < s.length ? s[i] : padId;
        mask[r * t + i] = i < s.length ? 1f : 0f;
      }
    }
    Shape shape = new Shape(b, t);
    return new TokenBatch(manager.create(ids, shape), manager.create(mask, shape), lengths);
  }
}
