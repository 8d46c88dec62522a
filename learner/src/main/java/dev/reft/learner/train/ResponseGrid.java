package dev.reft.learner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Where the response tokens of a right-padded batch sit in the (B, T − 1) grid of next-token predictions:
 * entry {@code [i][p]} predicts token {@code p + 1} of sequence i, so response token j of a sequence with a
 * prompt of length s sits at {@code p = s − 1 + j}. Moves ragged per-token arrays (B, L_i) into the grid
 * and back.
 */
public final class ResponseGrid {

  private final int rows;
  private final int width;
  private final int[] start;
  private final int[] length;

  /**
   * @param promptLengths s_i
   * @param responseLengths L_i
   * @param width T − 1, where T is the padded sequence length
   */
  public ResponseGrid(int[] promptLengths, int[] responseLengths, int width) {
    this.rows = promptLengths.length;
    this.width = width;
    this.start = new int[rows];
    this.length = responseLengths.clone();
    for (int i = 0; i < rows; i++) {
      start[i] = promptLengths[i] - 1;
      if (start[i] < 0 || start[i] + length[i] > width) {
        throw new IllegalArgumentException("sequence " + i + " does not fit the grid of width " + width);
      }
    }
  }

  /** The grid of a batch of rollouts padded to their longest sequence. */
  public static ResponseGrid of(List<Rollout> rollouts) {
    int[] s = new int[rollouts.size()];
    int[] l = new int[rollouts.size()];
    int t = 0;
    for (int i = 0; i < s.length; i++) {
      s[i] = rollouts.get(i).prompt().length;
      l[i] = rollouts.get(i).response().length;
      t = Math.max(t, s[i] + l[i]);
    }
    return new ResponseGrid(s, l, t - 1);
  }

  public int rows() {
    return rows;
  }

  public int width() {
    return width;
  }

  /** 1 on response positions, 0 elsewhere — (B, T − 1). */
  public NDArray mask(NDManager manager) {
    float[] m = new float[rows * width];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < length[i]; j++) {
        m[i * width + start[i] + j] = 1f;
      }
    }
    return manager.create(m, new Shape(rows, width));
  }

  /** Places ragged per-token values (B, L_i) into the grid (zeros elsewhere) — (B, T − 1). */
  public NDArray place(NDManager manager, float[][] ragged) {
    float[] g = new float[rows * width];
    for (int i = 0; i < rows; i++) {
      System.arraycopy(ragged[i], 0, g, i * width + start[i], length[i]);
    }
    return manager.create(g, new Shape(rows, width));
  }

  /** Reads the response positions of a (B, T − 1) grid back into ragged arrays (B, L_i). */
  public float[][] extract(NDArray grid) {
    float[] g = grid.toFloatArray();
    float[][] out = new float[rows][];
    for (int i = 0; i < rows; i++) {
      out[i] = new float[length[i]];
      System.arraycopy(g, i * width + start[i], out[i], 0, length[i]);
    }
    return out;
  }
}
