package dev.reft.tasks.sandbox;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Settings of the {@link PythonSandbox}. {@link #defaults()} gives the shipped values; every field can be set
 * from configuration keys with {@link #from(Function)}.
 *
 * @param mode {@link Mode#POOLED} (default): programs run in long-lived jailed workers, each with a clean
 *     namespace; {@link Mode#PROCESS_PER_PROGRAM}: each program runs in a fresh child forked inside the jail
 * @param workers number of worker processes (default: available processors, at least 1)
 * @param timeout wall-clock limit per program (default 2 s; the official ReFT code uses 10 s)
 * @param memoryBytes address-space limit of each worker (RLIMIT_AS; default 256 MiB)
 * @param recycleAfter a pooled worker is replaced after this many programs (default 2,000); workers are also
 *     replaced after a timeout, crash, memory error or violation
 * @param allowedModules modules programs may import, each handed out as a per-program copy; those not installed
 *     fail like an ordinary ImportError (default: math, cmath, fractions, statistics, itertools, functools,
 *     collections, datetime, sympy)
 * @param python the interpreter (default {@code /usr/bin/python3}, the distribution's)
 * @param bwrap bubblewrap (default {@code /usr/bin/bwrap}; Debian package {@code bubblewrap})
 * @param setpriv util-linux setpriv, used to drop root before entering the jail so that RLIMIT_NPROC holds
 *     (default {@code /usr/bin/setpriv})
 * @param sandboxUid uid and gid the jail runs as when the JVM runs as root (default 65534, nobody)
 * @param startTimeout how long a worker may take to start, and how long a caller waits for a free worker
 *     (default 30 s)
 * @param maxProgramChars longer programs are rejected as EXEC_ERROR without running (default 100,000)
 * @param maxOutputChars a program that prints more than this fails with EXEC_ERROR (default 1 MiB)
 */
public record SandboxConfig(
    Mode mode,
    int workers,
    Duration timeout,
    long memoryBytes,
    int recycleAfter,
    List<String> allowedModules,
    Path python,
    Path bwrap,
    Path setpriv,
    int sandboxUid,
    Duration startTimeout,
    int maxProgramChars,
    int maxOutputChars) {

  /** How programs are isolated from each other inside the jail. */
  public enum Mode {
    /** Long-lived workers; each program gets fresh globals, builtins and module copies. ~1 ms per program. */
    POOLED("pooled"),
    /** A fresh process forked inside the jail for every program. ~10-15 ms per program. */
    PROCESS_PER_PROGRAM("process-per-program");

    private final String id;

    Mode(String id) {
      this.id = id;
    }

    /** The configuration spelling: {@code pooled} or {@code process-per-program}. */
    public String id() {
      return id;
    }

    /** Parses {@code pooled} / {@code process-per-program} (case-insensitive; {@code _} for {@code -} accepted). */
    public static Mode parse(String text) {
      String t = text.strip().toLowerCase(Locale.ROOT).replace('_', '-');
      for (Mode m : values()) {
        if (m.id.equals(t)) {
          return m;
        }
      }
      throw new IllegalArgumentException("unknown sandbox mode '" + text + "' (pooled or process-per-program)");
    }

    @Override
    public String toString() {
      return id;
    }
  }

  /**
   * The value of {@code reft.sandbox.mode} that starts no sandbox at all, for a service that grades N-CoT only
   * where bubblewrap cannot create user namespaces (a Pod Security "restricted" namespace): see {@link #off}.
   */
  public static final String OFF = "off";

  /** Whether the configuration turns the sandbox off ({@code reft.sandbox.mode=off}). */
  public static boolean off(Function<String, Optional<String>> lookup) {
    return lookup.apply("reft.sandbox.mode").map(v -> v.strip().equalsIgnoreCase(OFF)).orElse(false);
  }

  /** The default whitelist of importable modules. */
  public static final List<String> DEFAULT_MODULES =
      List.of("math", "cmath", "fractions", "statistics", "itertools", "functools", "collections", "datetime", "sympy");

  public SandboxConfig {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(python, "python");
    Objects.requireNonNull(bwrap, "bwrap");
    Objects.requireNonNull(setpriv, "setpriv");
    Objects.requireNonNull(startTimeout, "startTimeout");
    allowedModules = List.copyOf(allowedModules);
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be >= 1: " + workers);
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    if (memoryBytes < 64L << 20) {
      throw new IllegalArgumentException("memoryBytes must be at least 64 MiB: " + memoryBytes);
    }
    if (recycleAfter < 1 || maxProgramChars < 1 || maxOutputChars < 0) {
      throw new IllegalArgumentException("recycleAfter, maxProgramChars must be >= 1, maxOutputChars >= 0");
    }
    for (String m : allowedModules) {
      if (!m.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        throw new IllegalArgumentException("not a top-level module name: '" + m + "'");
      }
    }
  }

  /** The shipped defaults (see the field descriptions). */
  public static SandboxConfig defaults() {
    return new SandboxConfig(Mode.POOLED, Math.max(1, Runtime.getRuntime().availableProcessors()),
        Duration.ofSeconds(2), 256L << 20, 2_000, DEFAULT_MODULES, Path.of("/usr/bin/python3"),
        Path.of("/usr/bin/bwrap"), Path.of("/usr/bin/setpriv"), 65534, Duration.ofSeconds(30), 100_000, 1 << 20);
  }

  /**
   * The defaults overridden by configuration keys: {@code reft.sandbox.mode}, {@code .workers},
   * {@code .timeout-ms}, {@code .memory-mib}, {@code .recycle-after}, {@code .modules} (comma-separated),
   * {@code .python}, {@code .bwrap}, {@code .setpriv}, {@code .uid}.
   *
   * @param lookup key → value, e.g. system properties then environment variables
   */
  public static SandboxConfig from(Function<String, Optional<String>> lookup) {
    if (off(lookup)) {
      throw new IllegalStateException("the P-CoT sandbox is turned off (reft.sandbox.mode=off); running P-CoT "
          + "programs needs reft.sandbox.mode=pooled or process-per-program");
    }
    SandboxConfig d = defaults();
    Function<String, Optional<String>> key = k -> lookup.apply("reft.sandbox." + k).map(String::strip);
    return new SandboxConfig(
        key.apply("mode").map(Mode::parse).orElse(d.mode),
        key.apply("workers").map(Integer::parseInt).orElse(d.workers),
        key.apply("timeout-ms").map(v -> Duration.ofMillis(Long.parseLong(v))).orElse(d.timeout),
        key.apply("memory-mib").map(v -> Long.parseLong(v) << 20).orElse(d.memoryBytes),
        key.apply("recycle-after").map(Integer::parseInt).orElse(d.recycleAfter),
        key.apply("modules").map(v -> Arrays.stream(v.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList())
            .orElse(d.allowedModules),
        key.apply("python").map(Path::of).orElse(d.python),
        key.apply("bwrap").map(Path::of).orElse(d.bwrap),
        key.apply("setpriv").map(Path::of).orElse(d.setpriv),
        key.apply("uid").map(Integer::parseInt).orElse(d.sandboxUid),
        d.startTimeout, d.maxProgramChars, d.maxOutputChars);
  }

  /** A copy with another mode. */
  public SandboxConfig withMode(Mode newMode) {
    return new SandboxConfig(newMode, workers, timeout, memoryBytes, recycleAfter, allowedModules, python, bwrap,
        setpriv, sandboxUid, startTimeout, maxProgramChars, maxOutputChars);
  }

  /** A copy with another number of workers. */
  public SandboxConfig withWorkers(int newWorkers) {
    return new SandboxConfig(mode, newWorkers, timeout, memoryBytes, recycleAfter, allowedModules, python, bwrap,
        setpriv, sandboxUid, startTimeout, maxProgramChars, maxOutputChars);
  }

  /** A copy with another wall-clock limit. */
  public SandboxConfig withTimeout(Duration newTimeout) {
    return new SandboxConfig(mode, workers, newTimeout, memoryBytes, recycleAfter, allowedModules, python, bwrap,
        setpriv, sandboxUid, startTimeout, maxProgramChars, maxOutputChars);
  }

  /** A copy with another recycling interval. */
  public SandboxConfig withRecycleAfter(int programs) {
    return new SandboxConfig(mode, workers, timeout, memoryBytes, programs, allowedModules, python, bwrap,
        setpriv, sandboxUid, startTimeout, maxProgramChars, maxOutputChars);
  }

  /** A copy with another bubblewrap path (tests use a missing one). */
  public SandboxConfig withBwrap(Path newBwrap) {
    return new SandboxConfig(mode, workers, timeout, memoryBytes, recycleAfter, allowedModules, python, newBwrap,
        setpriv, sandboxUid, startTimeout, maxProgramChars, maxOutputChars);
  }

  /** One line for start-up logs. */
  public String summary() {
    return "mode=" + mode + " workers=" + workers + " timeout=" + timeout.toMillis() + "ms memory="
        + (memoryBytes >> 20) + "MiB recycleAfter=" + recycleAfter + " modules=" + String.join(",", allowedModules)
        + " python=" + python + " bwrap=" + bwrap;
  }
}
