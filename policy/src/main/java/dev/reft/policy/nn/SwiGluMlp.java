package dev.reft.policy.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

/**
 * The Llama feed-forward block: {@code down(silu(gate(x)) · up(x))} (Shazeer 2020), no biases.
 *
 * <p>Shapes: C model width, F hidden width. Parameters in the Hugging Face layout (out, in): {@code
 * gate_proj} (F, C), {@code up_proj} (F, C), {@code down_proj} (C, F).
 */
public final class SwiGluMlp extends AbstractBlock {

  private final int dim;
  private final Parameter gateProj;
  private final Parameter upProj;
  private final Parameter downProj;

  private SwiGluMlp(Builder b) {
    dim = b.dim;
    gateProj = addParameter(weight("gate_proj", b.hiddenDim, b.dim, b.initStd));
    upProj = addParameter(weight("up_proj", b.hiddenDim, b.dim, b.initStd));
    downProj = addParameter(weight("down_proj", b.dim, b.hiddenDim, b.initStd));
  }

  static Parameter weight(String name, int out, int in, float std) {
    return Parameter.builder()
        .setName(name)
        .setType(Parameter.Type.WEIGHT)
        .optShape(new Shape(out, in))
        .optInitializer(new NormalInitializer(std))
        .build();
  }

  /** @return a builder; {@code setDim} and {@code setHiddenDim} are required */
  public static Builder builder() {
    return new Builder();
  }

  /** @return {@code gate_proj} (F, C) */
  public Parameter gateProj() {
    return gateProj;
  }

  /** @return {@code up_proj} (F, C) */
  public Parameter upProj() {
    return upProj;
  }

  /** @return {@code down_proj} (C, F) */
  public Parameter downProj() {
    return downProj;
  }

  /**
   * @param x (B, T, C)
   * @return (B, T, C), attached to {@code x}'s manager
   */
  public NDArray forward(NDArray x) {
    NDArray gate = Linear.linear(x, gateProj.getArray()).singletonOrThrow(); // (B, T, F)
    NDArray up = Linear.linear(x, upProj.getArray()).singletonOrThrow(); // (B, T, F)
    NDArray silu = gate.mul(Activation.sigmoid(gate));
    return Linear.linear(silu.mul(up), downProj.getArray()).singletonOrThrow(); // (B, T, C)
  }

  @Override
  protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(forward(inputs.singletonOrThrow()));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape in = inputShapes[0];
    return new Shape[] {in.slice(0, in.dimension() - 1).add(dim)};
  }

  /** Builder: {@code setDim}, {@code setHiddenDim} required; {@code optInitStd} optional (0.02). */
  public static final class Builder {
    private int dim;
    private int hiddenDim;
    private float initStd = 0.02f;

    private Builder() {}

    /** @param dim C */
    public Builder setDim(int dim) {
      this.dim = dim;
      return this;
    }

    /** @param hiddenDim F */
    public Builder setHiddenDim(int hiddenDim) {
      this.hiddenDim = hiddenDim;
      return this;
    }

    /** @param initStd standard deviation of the normal initialisation */
    public Builder optInitStd(float initStd) {
      this.initStd = initStd;
      return this;
    }

    /** @return the block */
    public SwiGluMlp build() {
      if (dim <= 0 || hiddenDim <= 0) {
        throw new IllegalArgumentException("SwiGluMlp: setDim and setHiddenDim (> 0) are required, got dim=" + dim + ", hiddenDim=" + hiddenDim);
      }
      if (!(initStd > 0)) {
        throw new IllegalArgumentException("SwiGluMlp: initStd must be positive, got " + initStd);
      }
      return new SwiGluMlp(this);
    }
  }
}
