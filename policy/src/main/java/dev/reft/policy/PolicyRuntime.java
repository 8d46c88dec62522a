package dev.reft.policy;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The PyTorch engine, its thread pools and the device the policy runs on.
 *
 * <p>Threads: PyTorch reads {@code ai.djl.pytorch.num_threads} (intra-op) and {@code
 * ai.djl.pytorch.num_interop_threads} when the engine loads. Keep both at or below the free cores and
 * run with {@code OMP_WAIT_POLICY=PASSIVE}: with OpenMP's default spinning, throughput collapsed ten-fold
 * here when another process shared the CPU. {@link #configureThreads} sets the properties before the
 * engine loads and changes the intra-op count afterwards (the inter-op count cannot change once parallel
 * work has started).
 *
 * <p>Device: the first GPU when DJL finds one, else the CPU. Reduced precision belongs on the GPU only:
 * on this CPU build BFLOAT16 crashes the JVM and FLOAT16 is about 100× slower than FLOAT32.
 */
public final class PolicyRuntime {

  /** The DJL engine name of PyTorch. */
  public static final String ENGINE = "PyTorch";

  private PolicyRuntime() {}

  /**
   * The PyTorch engine, loading the native library on first use (about 2 s; the natives are extracted
   * once to {@code $DJL_CACHE_DIR}, default {@code ~/.djl.ai}). Set {@code -Dai.djl.offline=true} so DJL
   * makes no network calls.
   *
   * @return the engine
   */
  public static Engine engine() {
    return Engine.getEngine(ENGINE);
  }

  /**
   * Sets PyTorch's thread pools. Call it before anything else touches DJL to control the inter-op pool;
   * the intra-op pool can be changed at any time.
   *
   * @param intraOpThreads threads used inside one op (matrix multiplies etc.), at least 1
   * @param interOpThreads threads running independent ops concurrently, at least 1
   * @return whether both counts are now in effect (false when the inter-op pool had already started
   *     with another size; see {@link #interOpThreads()})
   */
  public static synchronized boolean configureThreads(int intraOpThreads, int interOpThreads) {
    if (intraOpThreads < 1 || interOpThreads < 1) {
      throw new IllegalArgumentException("thread counts must be at least 1: intra=" + intraOpThreads + ", inter=" + interOpThreads);
    }
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(intraOpThreads));
    System.setProperty("ai.djl.pytorch.num_interop_threads", Integer.toString(interOpThreads));
    engine();
    if (JniUtils.getNumThreads() != intraOpThreads) {
      JniUtils.setNumThreads(intraOpThreads);
    }
    if (JniUtils.getNumInteropThreads() != interOpThreads) {
      try {
        JniUtils.setNumInteropThreads(interOpThreads);
      } catch (RuntimeException e) {
        return false; // PyTorch refuses once the inter-op pool has run work
      }
    }
    return JniUtils.getNumThreads() == intraOpThreads && JniUtils.getNumInteropThreads() == interOpThreads;
  }

  /** @return PyTorch's current intra-op thread count */
  public static int intraOpThreads() {
    engine();
    return JniUtils.getNumThreads();
  }

  /** @return PyTorch's current inter-op thread count */
  public static int interOpThreads() {
    engine();
    return JniUtils.getNumInteropThreads();
  }

  /** @return the first GPU when DJL sees one, else the CPU */
  public static Device defaultDevice() {
    return engine().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
  }
}
