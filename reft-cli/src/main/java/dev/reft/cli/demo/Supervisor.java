package dev.reft.cli.demo;

import dev.reft.kafka.local.ServiceProcess;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Keeps the local pipeline's services running, as the kubelet does in a cluster: a service process that exits
 * when nobody asked it to is started again after a backoff (1, 2, 4 ... s), with a line naming it, its exit
 * status and its log. After {@value #MAX_RESTARTS} restarts of one service within {@link #WINDOW} the run gives up
 * with a clear message: something is wrong that a restart does not fix.
 *
 * <p>Every service of the pipeline survives a restart by design: samplers and the reward service resume from
 * their consumer groups' committed offsets (their writes are transactional), and a learner resumes exactly from
 * its newest checkpoint.
 */
final class Supervisor {

  static final int MAX_RESTARTS = 3;
  static final Duration WINDOW = Duration.ofMinutes(10);

  private final PrintStream out;
  private volatile String failure;

  Supervisor(PrintStream out) {
    this.out = out;
  }

  /** Why the run must stop, or null while all is well. */
  String failure() {
    return failure;
  }

  /** A long-running service (reward, sampler) kept running until {@link Kept#close()}. */
  Kept keep(String name, Supplier<ServiceProcess> starter) {
    return new Kept(name, starter);
  }

  /**
   * Runs a service that ends by itself (a learner mode) until it exits 0, restarting it after an unexpected exit.
   *
   * @param onRestart called before each restart (for the progress display)
   * @throws IllegalStateException when it keeps failing, or another supervised service did
   */
  void runToCompletion(String name, Supplier<ServiceProcess> starter, Runnable onRestart) throws InterruptedException {
    Restarts restarts = new Restarts(name);
    while (true) {
      ServiceProcess p = starter.get();
      try {
        while (!p.process().waitFor(1, java.util.concurrent.TimeUnit.SECONDS)) {
          if (failure != null) {
            throw new IllegalStateException(failure);
          }
        }
      } finally {
        p.close();
      }
      int exit = p.process().exitValue();
      if (exit == 0) {
        return;
      }
      onRestart.run();
      restarts.after(exit, p, "\n" + p.tail(20));
    }
  }

  /** Counts the restarts of one service in the window and sleeps the backoff; fails the run when there are too many. */
  private final class Restarts {
    private final String name;
    private final Deque<Long> times = new ArrayDeque<>();

    Restarts(String name) {
      this.name = name;
    }

    void after(int exit, ServiceProcess p, String detail) throws InterruptedException {
      long now = System.nanoTime();
      while (!times.isEmpty() && now - times.peekFirst() > WINDOW.toNanos()) {
        times.removeFirst();
      }
      if (times.size() >= MAX_RESTARTS) {
        failure = String.format(Locale.ROOT, "%s exited with status %d %d times within %d minutes; giving up "
            + "(see %s)%s", name, exit, times.size() + 1, WINDOW.toMinutes(), p.log(), detail);
        throw new IllegalStateException(failure);
      }
      times.addLast(now);
      long backoff = 1000L << (times.size() - 1);
      out.printf(Locale.ROOT, "reft: %s exited with status %d (log: %s); restarting it in %d s (restart %d of at most "
          + "%d in %d minutes)%n", name, exit, p.log(), backoff / 1000, times.size(), MAX_RESTARTS, WINDOW.toMinutes());
      Thread.sleep(backoff);
    }
  }

  /** A service kept running by a watcher thread. */
  final class Kept implements AutoCloseable {
    private final String name;
    private final Supplier<ServiceProcess> starter;
    private final Restarts restarts;
    private volatile ServiceProcess current;
    private volatile boolean closed;
    private final Thread watcher;

    private Kept(String name, Supplier<ServiceProcess> starter) {
      this.name = name;
      this.starter = starter;
      this.restarts = new Restarts(name);
      this.current = starter.get();
      this.watcher = new Thread(this::watch, "supervise-" + name);
      watcher.setDaemon(true);
      watcher.start();
    }

    /** The process running now. */
    ServiceProcess current() {
      return current;
    }

    private void watch() {
      try {
        while (!closed) {
          ServiceProcess p = current;
          int exit = p.process().waitFor();
          if (closed) {
            return;
          }
          restarts.after(exit, p, "");
          if (!closed) {
            current = starter.get();
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = name + " could not be restarted: " + e.getMessage();
        }
      }
    }

    @Override
    public void close() {
      closed = true;
      watcher.interrupt();
      current.close();
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
