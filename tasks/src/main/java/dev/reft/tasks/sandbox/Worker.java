package dev.reft.tasks.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One jailed Python worker process and the pipe protocol to it (see {@code sandbox_worker.py}). Used by one
 * caller at a time (the pool hands it out exclusively); a daemon thread reads its replies so that the caller can
 * wait with a deadline.
 */
final class Worker {

  /** Replies longer than this are not read: the worker is treated as compromised. */
  static final int MAX_REPLY_BYTES = 64 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Object EOF = new Object();
  private static final Object OVERSIZED = new Object();

  /** Outcome of one call that did not produce a reply. */
  static final class Failure extends Exception {
    final boolean timeout;
    final boolean oversized;

    Failure(String message, boolean timeout, boolean oversized) {
      super(message);
      this.timeout = timeout;
      this.oversized = oversized;
    }
  }

  private final int number;
  private final Process process;
  private final OutputStream requests;
  private final Path stderrFile;
  private final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
  private long nextId;
  private int executed;

  private Worker(int number, Process process, Path stderrFile) {
    this.number = number;
    this.process = process;
    this.requests = process.getOutputStream();
    this.stderrFile = stderrFile;
    Thread reader = new Thread(this::readReplies, "reft-sandbox-worker-" + number + "-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts a worker and waits for its ready line.
   *
   * @throws SandboxUnavailableException if it does not become ready, with what it wrote to stderr
   */
  static Worker start(int number, List<String> command, Path stderrFile, Duration startTimeout) {
    Process process;
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectError(stderrFile.toFile());
      pb.environment().clear();
      process = pb.start();
    } catch (IOException e) {
      throw new SandboxUnavailableException("cannot start sandbox worker " + String.join(" ", command.subList(0, 1))
          + ": " + e.getMessage(), e);
    }
    Worker w = new Worker(number, process, stderrFile);
    Object first;
    try {
      first = w.replies.poll(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      w.kill();
      Thread.currentThread().interrupt();
      throw new SandboxUnavailableException("interrupted while starting a sandbox worker", e);
    }
    String problem = null;
    if (first == null) {
      problem = "not ready within " + startTimeout.toSeconds() + " s";
    } else if (!(first instanceof String line)) {
      problem = "exited before it was ready";
    } else {
      try {
        JsonNode ready = JSON.readTree(line);
        if (!ready.path("ready").asBoolean(false)) {
          problem = "unexpected first line: " + line;
        }
      } catch (IOException e) {
        problem = "unexpected first line: " + line;
      }
    }
    if (problem != null) {
      w.destroy();
      String stderr = w.stderrTail();
      w.deleteStderr();
      throw new SandboxUnavailableException("sandbox worker " + problem
          + (process.isAlive() ? "" : " (exit code " + exitCode(process) + ")")
          + (stderr.isEmpty() ? "" : "; it wrote: " + stderr)
          + "; command: " + String.join(" ", command.subList(0, Math.min(command.size(), 12))) + " ...");
    }
    return w;
  }

  /**
   * Runs one program.
   *
   * @param wait how long to wait for the reply before giving up (the worker must then be killed)
   * @return the reply object ({@code status}, {@code value}, {@code error}, {@code recycle})
   * @throws Failure on timeout, on the worker's death or on an oversized or malformed reply
   */
  JsonNode call(String program, Duration wait) throws Failure, InterruptedException {
    long id = ++nextId;
    executed++;
    ObjectNode request = JSON.createObjectNode().put("id", id).put("code", program);
    try {
      requests.write(JSON.writeValueAsBytes(request));
      requests.write('\n');
      requests.flush();
    } catch (IOException e) {
      throw new Failure("sandbox worker is gone (" + e.getMessage() + ")" + exitDescription(), false, false);
    }
    Object reply = replies.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
    if (reply == null) {
      throw new Failure("no reply within " + wait.toMillis() + " ms", true, false);
    }
    if (reply == OVERSIZED) {
      throw new Failure("reply larger than " + MAX_REPLY_BYTES + " bytes", false, true);
    }
    if (reply == EOF) {
      try {
        process.waitFor(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new Failure("sandbox worker died while running the program" + exitDescription(), false, false);
    }
    JsonNode node;
    try {
      node = JSON.readTree((String) reply);
    } catch (IOException e) {
      throw new Failure("malformed reply from sandbox worker", false, true);
    }
    if (node.path("id").asLong(-1) != id) {
      throw new Failure("reply for another request from sandbox worker", false, true);
    }
    return node;
  }

  /** Whether the process still runs. */
  boolean isAlive() {
    return process.isAlive();
  }

  /** Programs sent to this worker so far. */
  int executed() {
    return executed;
  }

  /** Kills the jail (bwrap, its init and the interpreter) and deletes the stderr file once it has exited. */
  void kill() {
    destroy();
    process.onExit().thenRun(this::deleteStderr);
  }

  private void destroy() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  private void deleteStderr() {
    try {
      Files.deleteIfExists(stderrFile);
    } catch (IOException ignored) {
      // the directory is removed when the sandbox closes
    }
  }

  /** Completes when the process has exited. */
  java.util.concurrent.CompletableFuture<Process> onExit() {
    return process.onExit();
  }

  int number() {
    return number;
  }

  private void readReplies() {
    try (InputStream in = process.getInputStream()) {
      ByteArrayOutputStream line = new ByteArrayOutputStream(256);
      byte[] buffer = new byte[8192];
      int n;
      while ((n = in.read(buffer)) > 0) {
        int start = 0;
        for (int i = 0; i < n; i++) {
          if (buffer[i] == '\n') {
            line.write(buffer, start, i - start);
            replies.add(line.toString(StandardCharsets.UTF_8));
            line.reset();
            start = i + 1;
          }
        }
        line.write(buffer, start, n - start);
        if (line.size() > MAX_REPLY_BYTES) {
          replies.add(OVERSIZED);
          return;
        }
      }
    } catch (IOException e) {
      // the process was killed; fall through to EOF
    }
    replies.add(EOF);
  }

  private String exitDescription() {
    if (process.isAlive()) {
      return "";
    }
    int code = exitCode(process);
    return code > 128 ? " (killed by signal " + (code - 128) + ")" : " (exit code " + code + ")";
  }

  private String stderrTail() {
    try {
      process.waitFor(2, TimeUnit.SECONDS);
      if (!Files.exists(stderrFile)) {
        return "";
      }
      String text = Files.readString(stderrFile, StandardCharsets.UTF_8).strip();
      return text.length() > 2000 ? "..." + text.substring(text.length() - 2000) : text;
    } catch (IOException | InterruptedException e) {
      return "";
    }
  }

  private static int exitCode(Process p) {
    try {
      return p.exitValue();
    } catch (IllegalThreadStateException e) {
      return -1;
    }
  }
}
