package dev.reft.policy.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import dev.reft.policy.ModelConfig;

/**
 * Rotary position embeddings (Su et al. 2021) in the Hugging Face layout ("rotate half"): the head vector
 * is split into two halves, element i of the first half and element i of the second half form one rotated
 * pair, so checkpoints of real Llama / Qwen2 / Mistral models apply unchanged.
 *
 * <p>{@code rope(x) = x·cos + rotate_half(x)·sin} with {@code rotate_half([x1, x2]) = [-x2, x1]}, angle
 * {@code pos · f_i} for frequency i of D/2, {@code f_i = θ^(-2i/D)} (optionally adjusted by {@code llama3}
 * rope scaling, see {@link #inverseFrequencies}), repeated for both halves.
 *
 * <p><b>Layout and Hugging Face.</b> This is exactly {@code apply_rotary_pos_emb} of Hugging Face's
 * {@code modeling_llama.py} / {@code modeling_qwen2.py}, with q_proj / k_proj rows in the same order (head h
 * owns rows h·D … h·D + D − 1, its first D/2 rows pair with its last D/2). Hence no permutation on import or
 * export: a Hugging Face q_proj.weight is this model's q_proj.weight. (Meta's original Llama checkpoints and
 * GGUF files use interleaved pairs (2i, 2i + 1); Hugging Face's conversion script permutes their q/k rows
 * into the rotate-half order, so every Hugging Face directory is already in this layout.) The project's own
 * models have used this layout from the start, so their checkpoints are unaffected.
 *
 * <p>Shapes: B batch, H heads, T time, D head size. The tables are (maxSeqLen, D), computed once in
 * double precision (Hugging Face computes the angles in float32; the difference is below 1e-4 rad at
 * position 2,048) and stored in the model's manager.
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
   * @param scaling {@code llama3} rope scaling, or null for none
   * @param dataType the model's element type
   */
  public RotaryEmbedding(NDManager manager, int headDim, int maxSeqLen, double theta, ModelConfig.RopeScaling scaling, DataType dataType) {
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("rotary embeddings need an even head size, got " + headDim);
    }
    this.headDim = headDim;
    int half = headDim / 2;
    double[] invFreq = inverseFrequencies(headDim, theta, scaling);
    float[] cos = new float[maxSeqLen * headDim];
    float[] sin = new float[maxSeqLen * headDim];
    for (int pos = 0; pos < maxSeqLen; pos++) {
      for (int i = 0; i < half; i++) {
        double angle = pos * invFreq[i];
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
   * The D/2 rotary frequencies {@code f_i = θ^(-2i/D)}, adjusted as Hugging Face's {@code
   * _compute_llama3_parameters} does when {@code scaling} is given: with wavelength {@code λ = 2π / f},
   * {@code λ > original / low_freq_factor} → {@code f / factor}; {@code λ < original / high_freq_factor} →
   * {@code f}; otherwise {@code (1 − s)·f / factor + s·f} with {@code s = (original / λ − low_freq_factor) /
   * (high_freq_factor − low_freq_factor)}.
   *
   * @param headDim D, even
   * @param theta the base
   * @param scaling {@code llama3} scaling, or null
   * @return the frequencies, index i = 0 … D/2 − 1
   */
  public static double[] inverseFrequencies(int headDim, double theta, ModelConfig.RopeScaling scaling) {
    double[] f = new double[headDim / 2];
    for (int i = 0; i < f.length; i++) {
      f[i] = 1.0 / Math.pow(theta, 2.0 * i / headDim);
      if (scaling != null) {
        double original = scaling.originalMaxPositionEmbeddings();
        double lowFreqWavelen = original / scaling.lowFreqFactor();
        double highFreqWavelen = original / scaling.highFreqFactor();
        double wavelen = 2 * Math.PI / f[i];
        if (wavelen > lowFreqWavelen) {
          f[i] = f[i] / scaling.factor();
        } else if (wavelen >= highFreqWavelen) {
          double smooth = (original / wavelen - scaling.lowFreqFactor()) / (scaling.highFreqFactor() - scaling.lowFreqFactor());
          f[i] = (1 - smooth) * f[i] / scaling.factor() + smooth * f[i];
        }
      }
    }
    return f;
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
