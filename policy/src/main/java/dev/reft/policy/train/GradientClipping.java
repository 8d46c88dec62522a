package dev.reft.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.reft.policy.NoGrad;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.Scalars;
import java.util.ArrayList;
import java.util.List;

/**
 * Global gradient-norm clipping, as {@code torch.nn.utils.clip_grad_norm_}: the L2 norm over all
 * gradients together; when it exceeds the limit, every gradient is scaled by {@code max / (norm + 1e-6)}.
 * ReFT clips at 1.
 */
public final class GradientClipping {

  private GradientClipping() {}

  /**
   * Clips the model's accumulated gradients in place.
   *
   * @param model the model (its trainable parameters with gradients)
   * @param maxNorm the largest allowed global norm, positive
   * @return the global norm before clipping (log it: spikes show instability); 0 without gradients
   */
  @SuppressWarnings("try") // the NoGrad guard is used for its scope only
  public static double clipGlobalNorm(PolicyModel model, double maxNorm) {
    if (!(maxNorm > 0)) {
      throw new IllegalArgumentException("maxNorm must be positive: " + maxNorm);
    }
    try (NoGrad ignored = NoGrad.enter(); NDManager scratch = model.newBatchManager()) {
      List<NDArray> grads = new ArrayList<>();
      NDList norms = new NDList();
      for (Parameter p : model.namedParameters().values()) {
        NDArray grad = p.requiresGradient() ? PolicyModel.gradient(p, scratch) : null;
        if (grad != null) {
          grads.add(grad);
          norms.add(grad.norm().reshape(1));
        }
      }
      if (grads.isEmpty()) {
        return 0;
      }
      double total = NDArrays.concat(norms).norm().toType(DataType.FLOAT64, false).getDouble();
      double coefficient = maxNorm / (total + 1e-6);
      if (coefficient < 1) {
        for (NDArray grad : grads) {
          grad.muli(Scalars.like(grad, coefficient)); // in place: the parameter's gradient itself
        }
      }
      return total;
    }
  }
}
