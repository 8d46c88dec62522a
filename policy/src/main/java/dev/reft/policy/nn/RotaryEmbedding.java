package dev.reft.policy.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;

/**
 * Rotary position embeddings (Su et al. 2021) in the Hugging Face Llama layout ("rotate half"): the
 * head vector is split into two halves that are rotated as (first, second) pairs, so checkpoints of
 * real Llama models apply unchanged.
 *
 * <p>{@code rope(x) = x·cos + rotate_half(x)·sin} with {@code rotate_half([x1, x2]) = [-x2, x1]}, angle
 * {@code pos · θ^(-2i/D)} for frequency i of D/2, repeated for both halves.
 *
 * <p>Shapes: B batch, H heads, T time, D head size. The tables are (maxSeqLen, D), computed once in
 * double precision and stored in the model's manager.
 */
public final class RotaryEmbedding {

  private final int headDim;
  private final NDArray cosTable; // (L, D)
  private final NDArray sinTable; // (L, D)

  /**
   * Builds the tables.
   *
   * @param manager the model's manager (owns the tables, fixes the device)
   * @param headDim D, even
   * @param maxSeqLen L, the number of positions
   * @param theta the frequency base
   * @param dataType the model's element type
   */
  public RotaryEmbedding(NDManager manager, int headDim, int maxSeqLen, float theta, DataType dataType) {
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("rotary embeddings need an even head size, got " + headDim);
    }
    this.headDim = headDim;
    int half = headDim / 2;
    float[] cos = new float[maxSeqLen * headDim];
    float[] sin = new float[maxSeqLen * headDim];
    for (int pos = 0; pos < maxSeqLen; pos++) {
      for (int i = 0; i < half; i++) {
        double invFreq = Math.pow(theta, -2.0 * i / headDim);
        double angle = pos * invFreq;
        float c = (float) Math.cos(angle);
        float s = (float) Math.sin(angle);
        cos[pos * headDim + i] = c;
        cos[pos * headDim + i + half] = c;
        sin[pos * headDim + i] = s;
        sin[pos * headDim + i + half] = s;
      }
    }
    Shape shape = new Shape(maxSeqLen, headDim);
    cosTable = manager.create(cos, shape).toType(dataType, false);
    sinTable = manager.create(sin, shape).toType(dataType, false);
  }

  /**
   * Looks up the rotation for each position.
   *
   * @param positions token positions (B, T), int64, each below maxSeqLen
   * @return {cos, sin}, each (B, 1, T, D) to broadcast over heads, attached to {@code positions}'
   *     manager
   */
  public NDArray[] lookup(NDArray positions) {
    Shape s = positions.getShape();
    NDArray cos = Embedding.embedding(positions, cosTable, SparseFormat.DENSE).singletonOrThrow(); // (B, T, D)
    NDArray sin = Embedding.embedding(positions, sinTable, SparseFormat.DENSE).singletonOrThrow();
    Shape heads = new Shape(s.get(0), 1, s.get(1), headDim);
    return new NDArray[] {cos.reshape(heads), sin.reshape(heads)};
  }

  /**
   * Rotates queries or keys.
   *
   * @param x (B, H, T, D)
   * @param cos (B, 1, T, D) from {@link #lookup}
   * @param sin (B, 1, T, D) from {@link #lookup}
   * @return the rotated (B, H, T, D), attached to {@code x}'s manager
   */
  public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
    NDList halves = x.split(2, 3); // two (B, H, T, D/2) views
    NDArray rotated = NDArrays.concat(new NDList(halves.get(1).neg(), halves.get(0)), 3); // [-x2, x1]
    return x.mul(cos).add(rotated.mul(sin));
  }
}
