package dev.reft.policy.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import dev.reft.policy.Scalars;

/**
 * Root-mean-square layer normalisation (Zhang and Sennrich 2019), as in Llama: {@code y = x /
 * sqrt(mean(x²) + eps) · weight}, over the last axis, without centring and without bias.
 *
 * <p>Shapes: (..., C) → (..., C). Parameter: {@code weight} (C), initialised to 1.
 */
public final class RmsNorm extends AbstractBlock {

  private final int dim;
  private final float eps;
  private final Parameter weight;
  private NDArray epsArray;

  private RmsNorm(Builder builder) {
    dim = builder.dim;
    eps = builder.eps;
    weight =
        addParameter(
            Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.GAMMA)
                .optShape(new Shape(dim))
                .optInitializer(Initializer.ONES)
                .build());
  }

  /** @return a builder; {@link Builder#setDim} is required */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the scale parameter (C) */
  public Parameter weight() {
    return weight;
  }

  /**
   * Normalises {@code x} over its last axis.
   *
   * @param x activations (..., C)
   * @return normalised activations (..., C), attached to {@code x}'s manager
   */
  public NDArray forward(NDArray x) {
    int last = x.getShape().dimension() - 1;
    NDArray meanSquare = x.square().mean(new int[] {last}, true); // (..., 1)
    NDArray rms = meanSquare.add(epsArray).sqrt();
    return x.div(rms).mul(weight.getArray());
  }

  @Override
  public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
    super.initialize(manager, dataType, inputShapes);
    if (epsArray == null) {
      epsArray = Scalars.of(manager, eps, dataType);
    }
  }

  @Override
  protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(forward(inputs.singletonOrThrow()));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  /** Builder: {@code setDim} required, {@code optEps} optional (default 1e-5). */
  public static final class Builder {
    private int dim;
    private float eps = 1e-5f;

    private Builder() {}

    /** @param dim the normalised width C */
    public Builder setDim(int dim) {
      this.dim = dim;
      return this;
    }

    /** @param eps the epsilon added to the mean square */
    public Builder optEps(float eps) {
      this.eps = eps;
      return this;
    }

    /** @return the block */
    public RmsNorm build() {
      if (dim <= 0) {
        throw new IllegalArgumentException("RmsNorm: setDim(dim > 0) is required, got " + dim);
      }
      if (!(eps > 0)) {
        throw new IllegalArgumentException("RmsNorm: eps must be positive, got " + eps);
      }
      return new RmsNorm(this);
    }
  }
}
