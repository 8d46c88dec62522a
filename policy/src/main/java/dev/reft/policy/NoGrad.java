package dev.reft.policy;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Turns PyTorch's autograd recording off on the current thread until {@link #close()}, then restores
 * the previous mode.
 *
 * <p>Why this exists: PyTorch's grad mode is thread-local and <em>on</em> by default. DJL switches it
 * off only on the thread that first loads the engine, and a {@code GradientCollector} switches it on.
 * On any other thread (a sampler worker, an executor), inference would otherwise record an autograd
 * graph for every op that touches a parameter, and an in-place update of a parameter fails with "a leaf
 * Variable that requires grad is being used in an in-place operation". Sampling, weight copies and
 * optimizer steps therefore run inside {@code try (NoGrad ignored = NoGrad.enter()) { ... }}.
 */
public final class NoGrad implements AutoCloseable {

  private final boolean previous;

  private NoGrad(boolean previous) {
    this.previous = previous;
  }

  /**
   * Disables gradient recording on this thread.
   *
   * @return a guard whose {@link #close()} restores the previous mode
   */
  public static NoGrad enter() {
    PolicyRuntime.engine();
    boolean previous = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    return new NoGrad(previous);
  }

  /** Restores the grad mode that was active before {@link #enter()}. */
  @Override
  public void close() {
    JniUtils.setGradMode(previous);
  }
}
