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
 * <p>Device: {@value #DEVICE_PROPERTY} = {@code auto} (the default: the first GPU when DJL's PyTorch engine
 * sees one, else the CPU), {@code cpu}, or {@code gpu} (refused with a clear message when there is none). The
 * services set it from their configuration ({@link #configureDevice}); elsewhere it is read from the system
 * property of that name or the environment variable {@code REFT_POLICY_DEVICE}. Every model the project
 * creates or loads without naming a device goes there ({@link #defaultDevice()}). Reduced precision belongs on
 * the GPU only: on this CPU build BFLOAT16 crashes the JVM and FLOAT16 is about 100× slower than FLOAT32.
 */
public final class PolicyRuntime {

  /** The DJL engine name of PyTorch. */
  public static final String ENGINE = "PyTorch";

  /** The setting that chooses the device: {@code auto}, {@code cpu} or {@code gpu}. */
  public static final String DEVICE_PROPERTY = "reft.policy.device";

  private static volatile String deviceSetting;

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

  /**
   * Sets the device every model goes to unless a caller names one. Checked now: {@code gpu} without a GPU
   * fails here, at start-up, rather than at the first model.
   *
   * @param setting {@code auto}, {@code cpu} or {@code gpu} (case-insensitive)
   * @return the device it selects
   * @throws IllegalArgumentException for another value
   * @throws IllegalStateException for {@code gpu} when DJL sees no GPU
   */
  public static synchronized Device configureDevice(String setting) {
    Device device = device(setting);
    deviceSetting = setting;
    return device;
  }

  /**
   * The device of {@value #DEVICE_PROPERTY}: the value given to {@link #configureDevice}, else the system
   * property, else the environment variable {@code REFT_POLICY_DEVICE}, else {@code auto}.
   *
   * @return the configured device
   * @throws IllegalArgumentException or IllegalStateException as {@link #device(String)}
   */
  public static Device defaultDevice() {
    String setting = deviceSetting;
    if (setting == null) {
      setting = System.getProperty(DEVICE_PROPERTY, System.getenv().getOrDefault("REFT_POLICY_DEVICE", "auto"));
    }
    return device(setting);
  }

  /**
   * Resolves a device setting.
   *
   * @param setting {@code auto} (the first GPU when DJL sees one, else the CPU), {@code cpu} or {@code gpu}
   * @return the device
   * @throws IllegalArgumentException for another value
   * @throws IllegalStateException for {@code gpu} when DJL sees no GPU
   */
  public static Device device(String setting) {
    String s = setting == null ? "auto" : setting.strip().toLowerCase(java.util.Locale.ROOT);
    switch (s) {
      case "cpu":
        return Device.cpu();
      case "auto":
        return engine().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
      case "gpu":
        if (engine().getGpuCount() == 0) {
          throw new IllegalStateException(DEVICE_PROPERTY + "=gpu, but DJL's PyTorch engine sees no GPU (this build bundles the CPU natives "
              + "pytorch-native-cpu; a GPU machine needs the CUDA natives, see policy/README.md), or use auto or cpu");
        }
        return Device.gpu();
      default:
        throw new IllegalArgumentException(DEVICE_PROPERTY + " must be auto, cpu or gpu, not '" + setting + "'");
    }
  }
}
