package dev.reft.sampler;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The policy the sampler serves and the next one waiting to replace it. The checkpoint watcher offers new
 * versions; the sampling loop swaps between batches (never inside one), so every trajectory is generated
 * by exactly the version it records, and frees the old model once nothing uses it.
 */
@ApplicationScoped
public class PolicyHolder {

  private final AtomicReference<LoadedPolicy> pending = new AtomicReference<>();
  private volatile LoadedPolicy current;
  private volatile long offeredVersion = -1;

  /** Offers a newly loaded version; a still-pending older one is freed. */
  public void offer(LoadedPolicy next) {
    offeredVersion = Math.max(offeredVersion, next.version());
    LoadedPolicy previous = pending.getAndSet(next);
    if (previous != null) {
      previous.close();
    }
  }

  /**
   * Called by the sampling loop between batches: switches to the pending version if there is one.
   *
   * @return the policy to use for the next batch, or null while none is loaded
   */
  public LoadedPolicy swapIfPending() {
    LoadedPolicy next = pending.getAndSet(null);
    if (next != null) {
      LoadedPolicy old = current;
      current = next;
      if (old != null) {
        old.close();
      }
    }
    return current;
  }

  /** The version being served, or -1 before the first load. */
  public long servedVersion() {
    LoadedPolicy c = current;
    return c == null ? -1 : c.version();
  }

  /** The newest version loaded (served or about to be). */
  public long newestVersion() {
    return Math.max(offeredVersion, servedVersion());
  }

  /** Whether a verified model is loaded (served or pending). */
  public boolean hasModel() {
    return current != null || pending.get() != null;
  }

  /** Frees everything (shutdown). */
  public synchronized void close() {
    LoadedPolicy p = pending.getAndSet(null);
    if (p != null) {
      p.close();
    }
    if (current != null) {
      current.close();
      current = null;
    }
  }
}
