package dev.reft.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Scalars as NDArrays that are safe to use in an autograd graph.
 *
 * <p>The DJL 0.36 pitfall: {@code x.mul(2f)} (and {@code add/sub/div/pow/minimum/maximum(Number)})
 * creates a temporary scalar tensor with {@code torch::from_blob} over a Java direct buffer, uses it
 * and closes it at once. PyTorch's autograd keeps a reference to that tensor for the backward pass, but
 * its memory belongs to the Java buffer, which the garbage collector may free before {@code backward()}
 * runs: the gradients are then silently computed from garbage (measured here: 20 of 20 wrong gradients
 * with a forced GC, and 1e27 gradients / NaN losses in training).
 *
 * <p>The scalars made here are allocated by PyTorch itself ({@code torch::full}), so their memory is
 * owned by the native tensor and stays valid for as long as autograd references it, whatever happens to
 * the Java object. They are attached to the given manager; use the manager of the batch (the one that is
 * closed after {@code backward()}) so they are released with the rest of the step. Never use the
 * {@code Number} overloads of NDArray arithmetic on anything that takes part in a backward pass.
 */
public final class Scalars {

  private Scalars() {}

  /**
   * A 0-dimensional float32 array holding {@code value}, natively allocated.
   *
   * @param manager the manager that owns the result (and fixes its device)
   * @param value the value
   * @return a scalar NDArray of shape ()
   */
  public static NDArray of(NDManager manager, double value) {
    return of(manager, value, DataType.FLOAT32);
  }

  /**
   * A 0-dimensional array of the given type holding {@code value}, natively allocated.
   *
   * @param manager the manager that owns the result (and fixes its device)
   * @param value the value
   * @param dataType the element type (match the array it will be combined with)
   * @return a scalar NDArray of shape ()
   */
  public static NDArray of(NDManager manager, double value, DataType dataType) {
    if (dataType != DataType.FLOAT64 && !dataType.isInteger()) {
      return manager.full(new Shape(), (float) value, dataType); // float32 and narrower: exact
    }
    // torch::full takes a float, too coarse for float64 and large integers. Write the exact value into
    // natively allocated zeros instead, then drop the buffer-backed temporaries at once. (Not
    // toType(copy = true): with an unchanged type DJL returns an alias of the Java buffer.)
    NDArray scalar = manager.zeros(new Shape(), dataType);
    try (NDManager temporary = manager.newSubManager()) {
      NDArray exact = dataType.isInteger() ? temporary.create((long) value) : temporary.create(value);
      scalar.addi(exact.toType(dataType, false));
    }
    return scalar;
  }

  /**
   * A scalar with the data type and device of {@code like}, attached to {@code like}'s manager.
   *
   * @param like the array the scalar will be combined with
   * @param value the value
   * @return a scalar NDArray of shape ()
   */
  public static NDArray like(NDArray like, double value) {
    return of(like.getManager(), value, like.getDataType());
  }
}
