package dev.reft.policy.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.reft.policy.ModelConfig;

/**
 * Keys and values of every layer for the tokens seen so far, so that decoding a new token costs one
 * token's worth of work instead of re-running the whole prefix.
 *
 * <p>Preallocated at full capacity, (B, Hkv, capacity, D) per layer, and filled in place: appending
 * copies only the new tokens, and attention reads a view of the filled prefix. The cache owns a
 * sub-manager of the manager it was allocated from; {@link #close()} frees it. Not thread-safe; one
 * cache belongs to one generation.
 *
 * <p>Shapes: B batch, Hkv key/value heads, T time (cache index, including left padding), D head size.
 */
public final class KvCache implements AutoCloseable {

  private final NDManager manager;
  private final NDArray[] keys;
  private final NDArray[] values;
  private final int capacity;
  private int length;

  private KvCache(NDManager manager, NDArray[] keys, NDArray[] values, int capacity) {
    this.manager = manager;
    this.keys = keys;
    this.values = values;
    this.capacity = capacity;
  }

  /**
   * Allocates an empty cache.
   *
   * @param parent the manager the cache's own sub-manager is created from (fixes the device)
   * @param config the model's configuration
   * @param batch B
   * @param capacity the largest number of positions the cache will hold
   * @param dataType the model's element type
   * @return the cache, length 0
   */
  public static KvCache allocate(NDManager parent, ModelConfig config, int batch, int capacity, DataType dataType) {
    if (capacity <= 0 || capacity > config.maxSeqLen()) {
      throw new IllegalArgumentException("cache capacity must be in [1, maxSeqLen=" + config.maxSeqLen() + "], got " + capacity);
    }
    NDManager manager = parent.newSubManager();
    Shape shape = new Shape(batch, config.kvHeads(), capacity, config.headDim());
    NDArray[] keys = new NDArray[config.layers()];
    NDArray[] values = new NDArray[config.layers()];
    for (int i = 0; i < config.layers(); i++) {
      keys[i] = manager.zeros(shape, dataType);
      values[i] = manager.zeros(shape, dataType);
    }
    return new KvCache(manager, keys, values, capacity);
  }

  /** @return the number of positions filled so far */
  public int length() {
    return length;
  }

  /** @return the number of positions the cache can hold */
  public int capacity() {
    return capacity;
  }

  /**
   * Writes the new keys and values of one layer after the filled prefix and returns the whole filled
   * range. Does not advance the length: the model calls {@link #advance} once all layers are written.
   *
   * @param layer the layer index
   * @param newKeys (B, Hkv, Tn, D)
   * @param newValues (B, Hkv, Tn, D)
   * @return {keys, values}, each (B, Hkv, length + Tn, D): views attached to {@code newKeys}' manager
   */
  NDArray[] append(int layer, NDArray newKeys, NDArray newValues) {
    Shape s = newKeys.getShape(); // (B, Hkv, Tn, D)
    int end = length + Math.toIntExact(s.get(2));
    if (end > capacity) {
      throw new IllegalStateException("KV cache overflow: " + end + " positions > capacity " + capacity);
    }
    // One native call per slice (DJL's NDIndex path costs six): [:, :, length:end] ← new, then [:, :, :end].
    long[] step = {1, 1, 1, 1};
    long[] to = {s.get(0), s.get(1), end, s.get(3)};
    JniUtils.indexSet((PtNDArray) keys[layer], (PtNDArray) newKeys, new long[] {0, 0, length, 0}, to, step);
    JniUtils.indexSet((PtNDArray) values[layer], (PtNDArray) newValues, new long[] {0, 0, length, 0}, to, step);
    PtNDManager owner = (PtNDManager) newKeys.getManager();
    long[] from = {0, 0, 0, 0};
    return new NDArray[] {
      JniUtils.index((PtNDArray) keys[layer], from, to, step, owner), JniUtils.index((PtNDArray) values[layer], from, to, step, owner)
    };
  }

  /**
   * Marks {@code n} more positions as filled.
   *
   * @param n the number of tokens just written to every layer
   */
  void advance(int n) {
    length += n;
  }

  /** Frees the cache's arrays. */
  @Override
  public void close() {
    manager.close();
  }
}
