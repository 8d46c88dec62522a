package dev.reft.cli.demo;

import dev.reft.kafka.local.ServiceProcess;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Keeps the local pipeline's services running, as the kubelet does in a cluster: a service process that exits
 * when nobody asked it to is started again after a backoff (1, 2, 4 ... s), with a line naming it, its exit
 * status and its log. After {@value #MAX_RESTARTS} restarts (by default; {@code reft chaos} allows more, as it kills
 * services on purpose) of one service within {@link #WINDOW} the run gives up with a clear message: something is
 * wrong that a restart does not fix.
 *
 * <p>Every service of the pipeline survives a restart by design: samplers and the reward service resume from
 * their consumer groups' committed offsets (their writes are transactional), and a learner resumes exactly from
 * its newest checkpoint.
 */
final class Supervisor {

  static final int MAX_RESTARTS = 3;
  static final Duration WINDOW = Duration.ofMinutes(10);

  private final PrintStream out;
  private final int maxRestarts;
  private volatile String failure;
  /** The process of each supervised service now (the latest started). */
  private final Map<String, ServiceProcess> current = new ConcurrentHashMap<>();
  /** Restarts of each service so far, with the exit status that caused each. */
  private final Map<String, List<Integer>> restarted = new ConcurrentHashMap<>();

  Supervisor(PrintStream out) {
    this(out, MAX_RESTARTS);
  }

  /** @param maxRestarts restarts of one service allowed within {@link #WINDOW} */
  Supervisor(PrintStream out, int maxRestarts) {
    if (maxRestarts < 0) {
      throw new IllegalArgumentException("maxRestarts must be >= 0: " + maxRestarts);
    }
    this.out = out;
    this.maxRestarts = maxRestarts;
  }

  /** The process of a supervised service now, if it was started. */
  Optional<ServiceProcess> current(String name) {
    return Optional.ofNullable(current.get(name));
  }

  /** Per service, the exit status of every restart so far. */
  Map<String, List<Integer>> restarts() {
    Map<String, List<Integer>> copy = new TreeMap<>();
    restarted.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    return copy;
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
      current.put(name, p);
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
      restarted.computeIfAbsent(name, n -> new CopyOnWriteArrayList<>()).add(exit);
      if (times.size() >= maxRestarts) {
        failure = String.format(Locale.ROOT, "%s exited with status %d %d times within %d minutes; giving up "
            + "(see %s)%s", name, exit, times.size() + 1, WINDOW.toMinutes(), p.log(), detail);
        throw new IllegalStateException(failure);
      }
      times.addLast(now);
      long backoff = 1000L << Math.min(5, times.size() - 1);
      out.printf(Locale.ROOT, "reft: %s exited with status %d (log: %s); restarting it in %d s (restart %d of at most "
          + "%d in %d minutes)%n", name, exit, p.log(), backoff / 1000, times.size(), maxRestarts, WINDOW.toMinutes());
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
      Supervisor.this.current.put(name, current);
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
            Supervisor.this.current.put(name, current);
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
