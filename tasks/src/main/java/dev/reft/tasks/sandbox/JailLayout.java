package dev.reft.tasks.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * What the jail shows of the host, and the command that starts a worker in it.
 *
 * <p>The interpreter is probed once, outside the jail: its real executable, the directories on its
 * {@code sys.path} and the directories of every file it maps after importing the worker's and the whitelisted
 * modules (shared libraries, extension modules). Only those are bound, read-only; plus the {@code /lib},
 * {@code /lib64} symlinks of merged-/usr systems, a minimal {@code /dev} and the worker script. Nothing else of
 * the host file system (no {@code /etc}, {@code /home}, {@code /proc}, {@code /tmp}) exists inside, the root is
 * read-only, the environment is empty, and every namespace is unshared (network: only a private loopback; PID:
 * the jail sees only itself).
 *
 * <p>When the JVM runs as root, {@code setpriv} first drops to an unprivileged uid/gid: for root (and for a
 * user namespace mapped to root) the kernel ignores RLIMIT_NPROC, which the worker relies on to forbid fork
 * and threads.
 */
final class JailLayout {

  /** Where the worker script appears inside the jail. */
  static final String WORKER_PATH = "/sandbox/worker.py";

  private static final String PROBE = String.join("\n",
      "import json, os, sys",
      "import ast, builtins, gc, math, numbers, resource, select, signal, time, types",
      "for name in sys.argv[1].split(','):",
      "    try:",
      "        __import__(name)",
      "    except ImportError:",
      "        pass",
      "mapped = set()",
      "with open('/proc/self/maps') as maps:",
      "    for line in maps:",
      "        parts = line.split(None, 5)",
      "        if len(parts) == 6 and parts[5].startswith('/'):",
      "            mapped.add(os.path.realpath(parts[5].strip()))",
      "paths = [os.path.realpath(p) for p in sys.path if p and os.path.isabs(p) and os.path.isdir(p)]",
      "print(json.dumps({'executable': os.path.realpath(sys.executable), 'paths': paths,",
      "                  'mapped': sorted(mapped), 'version': sys.version.split()[0]}))");

  private final Path executable;
  private final List<String> roBinds;
  private final List<String[]> symlinks;
  private final String pythonVersion;

  private JailLayout(Path executable, List<String> roBinds, List<String[]> symlinks, String pythonVersion) {
    this.executable = executable;
    this.roBinds = roBinds;
    this.symlinks = symlinks;
    this.pythonVersion = pythonVersion;
  }

  /**
   * Checks the tools and probes the interpreter.
   *
   * @throws SandboxUnavailableException when bwrap, setpriv (as root) or the interpreter is missing or broken
   */
  static JailLayout probe(SandboxConfig config) {
    requireExecutable(config.bwrap(), "bubblewrap (bwrap)",
        "the P-CoT sandbox runs every program inside a bubblewrap jail; install it (Debian/Ubuntu: apt-get install bubblewrap)"
            + " or set reft.sandbox.bwrap");
    if (isRoot()) {
      requireExecutable(config.setpriv(), "setpriv",
          "running as root, the sandbox drops to an unprivileged uid with setpriv before entering the jail"
              + " (Debian/Ubuntu: package util-linux) or set reft.sandbox.setpriv");
    }
    requireExecutable(config.python(), "python3",
        "P-CoT programs run with CPython (Debian/Ubuntu: apt-get install python3) or set reft.sandbox.python");
    JsonNode info;
    try {
      Process p = new ProcessBuilder(config.python().toString(), "-I", "-B", "-c", PROBE,
          String.join(",", config.allowedModules()))
          .redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readNBytes(1 << 20);
      if (!p.waitFor(config.startTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new SandboxUnavailableException("probing " + config.python() + " timed out");
      }
      String text = new String(out, StandardCharsets.UTF_8).strip();
      if (p.exitValue() != 0) {
        throw new SandboxUnavailableException("probing " + config.python() + " failed (exit " + p.exitValue() + "): " + text);
      }
      info = new ObjectMapper().readTree(text.substring(text.lastIndexOf('\n') + 1));
    } catch (IOException e) {
      throw new SandboxUnavailableException("cannot run " + config.python() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxUnavailableException("interrupted while probing " + config.python(), e);
    }

    Path executable = Path.of(info.get("executable").asText());
    TreeSet<String> dirs = new TreeSet<>();
    info.get("paths").forEach(p -> dirs.add(p.asText()));
    info.get("mapped").forEach(m -> {
      Path file = Path.of(m.asText());
      if (!file.equals(executable) && file.getParent() != null) {
        dirs.add(file.getParent().toString());
      }
    });
    List<String[]> symlinks = new ArrayList<>();
    for (String top : List.of("/lib", "/lib32", "/lib64", "/libx32")) {
      Path path = Path.of(top);
      try {
        if (Files.isSymbolicLink(path)) {
          symlinks.add(new String[] {Files.readSymbolicLink(path).toString(), top});
        }
        // The ELF interpreter (/lib64/ld-linux-*.so.2) lives here or is reached through here.
        if (top.equals("/lib64") && Files.isDirectory(path)) {
          dirs.add(path.toRealPath().toString());
        }
      } catch (IOException e) {
        throw new SandboxUnavailableException("cannot inspect " + top + ": " + e.getMessage(), e);
      }
    }
    List<String> binds = new ArrayList<>();
    for (String d : dirs) {
      boolean covered = binds.stream().anyMatch(b -> d.equals(b) || d.startsWith(b.endsWith("/") ? b : b + "/"));
      if (!covered && !d.equals("/") && Files.isDirectory(Path.of(d))) {
        binds.add(d);
      }
    }
    binds.add(executable.toString());
    return new JailLayout(executable, List.copyOf(binds), List.copyOf(symlinks), info.get("version").asText());
  }

  /** The full command line of one worker. */
  List<String> command(SandboxConfig config, Path workerScript, String workerConfigJson) {
    List<String> cmd = new ArrayList<>();
    if (isRoot()) {
      String id = Integer.toString(config.sandboxUid());
      cmd.addAll(List.of(config.setpriv().toString(), "--reuid", id, "--regid", id, "--clear-groups", "--"));
    }
    cmd.addAll(List.of(config.bwrap().toString(), "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"));
    for (String b : roBinds) {
      cmd.addAll(List.of("--ro-bind", b, b));
    }
    for (String[] link : symlinks) {
      cmd.addAll(List.of("--symlink", link[0], link[1]));
    }
    cmd.addAll(List.of("--dev", "/dev", "--ro-bind", workerScript.toString(), WORKER_PATH,
        "--remount-ro", "/", "--chdir", "/",
        executable.toString(), "-I", "-B", "-X", "utf8", WORKER_PATH, workerConfigJson));
    return cmd;
  }

  /** The interpreter's version, e.g. {@code 3.11.2}. */
  String pythonVersion() {
    return pythonVersion;
  }

  /** The host paths visible (read-only) inside the jail. */
  List<String> visiblePaths() {
    return roBinds;
  }

  private static void requireExecutable(Path path, String what, String hint) {
    if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
      throw new SandboxUnavailableException(what + " not found at " + path + ": " + hint);
    }
  }

  /** Whether this JVM runs with real uid 0 (read from /proc, as Java has no portable getuid). */
  static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[1].equals("0");
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }
}
