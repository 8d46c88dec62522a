package dev.reft.tasks.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reft.tasks.sandbox.ExecutionResult.Status;
import dev.reft.tasks.sandbox.SandboxConfig.Mode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Runs untrusted P-CoT programs ({@code def solution(): ... return result}) with CPython, outside the JVM, in a
 * jail, and returns the value of {@code solution()} or the kind of failure.
 *
 * <p><b>The jail is the worker.</b> Each worker is a long-lived {@code python3} started inside bubblewrap with
 * every namespace unshared (no network, a private PID space), only the interpreter's files visible and read-only,
 * as an unprivileged uid, and with RLIMIT_AS ({@link SandboxConfig#memoryBytes()}), RLIMIT_NPROC 0 (no fork, no
 * threads), RLIMIT_FSIZE 0, RLIMIT_NOFILE at the descriptors it already has, RLIMIT_CORE 0. Whatever a program
 * does, it cannot reach the host, the network or the JVM.
 *
 * <p><b>Each program starts clean.</b> In {@link Mode#POOLED} mode every program gets fresh globals, a fresh
 * curated copy of the builtins and per-program copies of the whitelisted modules ({@code math.pi = 3} stays its
 * own); the classes those modules share are checked after every program. The wall-clock limit is enforced here:
 * on timeout the worker is killed and replaced in the background. A worker is also replaced after a crash, a
 * memory error, a violation, and after {@link SandboxConfig#recycleAfter()} programs. In
 * {@link Mode#PROCESS_PER_PROGRAM} mode the worker forks a fresh child per program (inside the jail, with the
 * same limits and RLIMIT_NPROC 0) and times it out itself; this costs ~10 ms per program.
 *
 * <p>Thread-safe: {@link #execute} may be called from any number of threads; each call takes a free worker
 * (waiting if all are busy). {@link #close()} kills every worker.
 */
public final class PythonSandbox implements AutoCloseable {

  /** Extra wait beyond the limit in process-per-program mode, where the worker times out its child itself. */
  private static final Duration CHILD_MODE_GRACE = Duration.ofSeconds(1);
  private static final String WORKER_RESOURCE = "/dev/reft/tasks/sandbox/sandbox_worker.py";

  private final SandboxConfig config;
  private final JailLayout layout;
  private final Path directory;
  private final List<String> command;
  private final BlockingQueue<Worker> idle = new LinkedBlockingQueue<>();
  private final Set<Worker> alive = ConcurrentHashMap.newKeySet();
  /**
   * The one thread that starts worker processes. bubblewrap's --die-with-parent kills the jail when the
   * <em>thread</em> that started it ends (PR_SET_PDEATHSIG), so workers are only ever started from this
   * long-lived thread, which ends when the sandbox closes.
   */
  private final ExecutorService spawner;
  private final AtomicInteger workerNumbers = new AtomicInteger();
  private final AtomicLong executed = new AtomicLong();
  private final AtomicLong restarts = new AtomicLong();
  private final AtomicInteger replacing = new AtomicInteger();
  private volatile boolean closed;
  private volatile String lastSpawnError;

  private PythonSandbox(SandboxConfig config, JailLayout layout, Path directory, Path workerScript) {
    this.config = config;
    this.layout = layout;
    this.directory = directory;
    this.command = layout.command(config, workerScript, workerConfig(config));
    this.spawner = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "reft-sandbox-spawner");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Checks the tools, writes the worker script to a private temporary directory and starts all workers.
   *
   * @throws SandboxUnavailableException if bubblewrap, setpriv (when root) or the interpreter is missing, or the
   *     jail does not start here; the message says what to install
   */
  public static PythonSandbox start(SandboxConfig config) {
    JailLayout layout = JailLayout.probe(config);
    Path directory;
    Path script;
    try {
      // Readable by the unprivileged sandbox uid, which must be able to bind-mount the script.
      directory = Files.createTempDirectory("reft-sandbox-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
      // In case the JVM exits without close(): the script, then the directory (reverse order of registration).
      directory.toFile().deleteOnExit();
      script = directory.resolve("sandbox_worker.py");
      script.toFile().deleteOnExit();
      try (InputStream in = PythonSandbox.class.getResourceAsStream(WORKER_RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("missing resource " + WORKER_RESOURCE);
        }
        Files.copy(in, script);
      }
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the sandbox worker script", e);
    }
    PythonSandbox sandbox = new PythonSandbox(config, layout, directory, script);
    try {
      List<CompletableFuture<Worker>> starting = new ArrayList<>();
      for (int i = 0; i < config.workers(); i++) {
        starting.add(CompletableFuture.supplyAsync(sandbox::startWorker, sandbox.spawner));
      }
      for (CompletableFuture<Worker> f : starting) {
        Worker w = f.join();
        sandbox.alive.add(w);
        sandbox.idle.add(w);
      }
    } catch (RuntimeException e) {
      sandbox.close();
      Throwable cause = e.getCause() != null && e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
      if (cause instanceof SandboxUnavailableException s) {
        throw s;
      }
      throw new SandboxUnavailableException("sandbox workers did not start: " + cause.getMessage(), cause);
    }
    return sandbox;
  }

  /**
   * Runs one program and returns the value of its {@code solution()} or the failure kind. Blocks while all
   * workers are busy. Never throws for anything the program does.
   *
   * @throws SandboxUnavailableException if no worker becomes available within the start timeout
   * @throws IllegalStateException if the sandbox is closed
   */
  public ExecutionResult execute(String program) {
    if (program.length() > config.maxProgramChars()) {
      return new ExecutionResult(Status.EXEC_ERROR, null,
          "program longer than " + config.maxProgramChars() + " characters", 0);
    }
    while (true) {
      Worker worker = acquire();
      if (!worker.isAlive()) {  // died while idle (killed from outside): not this program's fault
        retire(worker);
        continue;
      }
      long t0 = System.nanoTime();
      try {
        JsonNode reply = worker.call(program, waitLimit());
        ExecutionResult result = toResult(reply, micros(t0));
        executed.incrementAndGet();
        if (reply.path("recycle").asBoolean(false) || worker.executed() >= config.recycleAfter()) {
          retire(worker);
        } else {
          release(worker);
        }
        return result;
      } catch (Worker.Failure f) {
        retire(worker);
        executed.incrementAndGet();
        checkOpen();
        if (f.timeout) {
          return new ExecutionResult(Status.TIMEOUT, null,
              "wall-clock limit of " + config.timeout().toMillis() + " ms exceeded", micros(t0));
        }
        return new ExecutionResult(f.oversized ? Status.SANDBOX_VIOLATION : Status.EXEC_ERROR, null, f.getMessage(),
            micros(t0));
      } catch (InterruptedException e) {
        retire(worker);
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while a program was running", e);
      }
    }
  }

  /**
   * Whether programs can run: not closed, and a worker is alive or a replacement is starting without errors.
   * False when every worker is gone and replacements keep failing (e.g. bubblewrap was removed).
   */
  public boolean isReady() {
    return !closed && (!alive.isEmpty() || (replacing.get() > 0 && lastSpawnError == null));
  }

  /** The configuration this sandbox runs with. */
  public SandboxConfig config() {
    return config;
  }

  /** The interpreter version in the jail, e.g. {@code 3.11.2}. */
  public String pythonVersion() {
    return layout.pythonVersion();
  }

  /** The host paths visible, read-only, inside the jail. */
  public List<String> visiblePaths() {
    return layout.visiblePaths();
  }

  /** Programs run so far. */
  public long executedCount() {
    return executed.get();
  }

  /** Workers replaced so far (timeouts, crashes, violations, memory errors, recycling). */
  public long restartCount() {
    return restarts.get();
  }

  /** Kills every worker and removes the temporary directory. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    spawner.shutdownNow();
    List<CompletableFuture<?>> exits = new ArrayList<>();
    for (Worker w : alive) {
      w.kill();
      exits.add(w.onExit());
    }
    alive.clear();
    idle.clear();
    try {
      CompletableFuture.allOf(exits.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // best effort: the directory is removed anyway
    }
    // Flat directory: the script and the workers' stderr files (some are being deleted concurrently).
    try (Stream<Path> files = Files.list(directory)) {
      files.forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException ignored) {
      // temporary directory; nothing else to do
    }
    directory.toFile().delete();
  }

  private Worker startWorker() {
    int n = workerNumbers.incrementAndGet();
    return Worker.start(n, command, directory.resolve("worker-" + n + ".stderr"), config.startTimeout());
  }

  private Worker acquire() {
    long deadline = System.nanoTime() + config.startTimeout().toNanos();
    while (true) {
      checkOpen();
      Worker w;
      try {
        w = idle.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a sandbox worker", e);
      }
      if (w != null) {
        return w;
      }
      if (System.nanoTime() > deadline) {
        throw new SandboxUnavailableException("no sandbox worker became available within "
            + config.startTimeout().toSeconds() + " s" + (lastSpawnError == null ? "" : ": " + lastSpawnError));
      }
    }
  }

  private void release(Worker w) {
    if (closed) {
      w.kill();
    } else {
      idle.add(w);
    }
  }

  /** Kills a worker and starts a replacement in the background. */
  private void retire(Worker w) {
    w.kill();
    alive.remove(w);
    if (closed) {
      return;
    }
    restarts.incrementAndGet();
    replacing.incrementAndGet();
    try {
      spawner.execute(this::spawnReplacement);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      replacing.decrementAndGet();  // closing
    }
  }

  /** Starts one replacement worker, retrying with back-off while the jail fails to start. */
  private void spawnReplacement() {
    long backoffMillis = 200;
    while (!closed) {
      try {
        Worker w = startWorker();
        lastSpawnError = null;
        if (closed) {
          w.kill();
          return;
        }
        alive.add(w);
        idle.add(w);
        replacing.decrementAndGet();
        return;
      } catch (RuntimeException e) {
        lastSpawnError = e.getMessage();
        try {
          Thread.sleep(backoffMillis);
        } catch (InterruptedException ie) {
          return;
        }
        backoffMillis = Math.min(5_000, backoffMillis * 2);
      }
    }
  }

  private Duration waitLimit() {
    return config.mode() == Mode.PROCESS_PER_PROGRAM ? config.timeout().plus(CHILD_MODE_GRACE) : config.timeout();
  }

  private static ExecutionResult toResult(JsonNode reply, long micros) {
    String status = reply.path("status").asText("");
    String value = reply.hasNonNull("value") ? reply.get("value").asText() : null;
    String error = reply.hasNonNull("error") ? reply.get("error").asText() : null;
    return switch (status) {
      case "value" -> new ExecutionResult(Status.VALUE, value, null, micros);
      case "not_a_number" -> new ExecutionResult(Status.NOT_A_NUMBER, null,
          "solution() returned a " + (error == null ? "non-number" : error), micros);
      case "timeout" -> new ExecutionResult(Status.TIMEOUT, null, error, micros);
      case "violation" -> new ExecutionResult(Status.SANDBOX_VIOLATION, null, error, micros);
      default -> new ExecutionResult(Status.EXEC_ERROR, null, error == null ? "unknown error" : error, micros);
    };
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the sandbox is closed");
    }
  }

  private static long micros(long t0) {
    return (System.nanoTime() - t0) / 1_000;
  }

  private static String workerConfig(SandboxConfig config) {
    ObjectNode node = new ObjectMapper().createObjectNode()
        .put("mode", config.mode().id())
        .put("memory_bytes", config.memoryBytes())
        .put("timeout", config.timeout().toMillis() / 1000.0)
        .put("max_output", config.maxOutputChars())
        .put("max_chars", 1000);
    config.allowedModules().forEach(node.putArray("modules")::add);
    return node.toString();
  }
}
