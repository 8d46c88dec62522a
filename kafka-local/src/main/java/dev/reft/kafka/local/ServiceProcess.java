package dev.reft.kafka.local;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One of the Quarkus services run as its own process from its packaged jar — exactly what a container
 * runs: {@code java -jar <module>/target/quarkus-app/quarkus-run.jar}, configured by system properties and
 * environment variables, logging to a file.
 */
public final class ServiceProcess implements AutoCloseable {

  private final String name;
  private final Process process;
  private final Path log;
  private final int httpPort;
  private final Thread reaper;

  private ServiceProcess(String name, Process process, Path log, int httpPort) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.httpPort = httpPort;
    // If this JVM ends first (a test run killed, Ctrl-C), take the child with it: no orphans.
    this.reaper = new Thread(process::destroyForcibly, "reap-" + name);
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /**
   * Starts a service from its jar.
   *
   * @param name a name for messages, e.g. {@code reward-service}
   * @param jar the Quarkus runner, {@code <module>/target/quarkus-app/quarkus-run.jar}
   * @param httpPort port for {@code /q/health} and {@code /q/metrics}
   * @param properties system properties ({@code -Dkey=value}), e.g. {@code reft.learner.mode}
   * @param env extra environment variables, e.g. {@code KAFKA_BOOTSTRAP_SERVERS}
   * @param heap maximum heap, e.g. {@code 2g}
   * @param log file that receives the process's output (appended)
   */
  public static ServiceProcess start(String name, Path jar, int httpPort, Map<String, String> properties,
      Map<String, String> env, String heap, Path log) {
    if (!java.nio.file.Files.isRegularFile(jar)) {
      throw new IllegalStateException(name + ": no " + jar + " (build it with mvn -DskipTests package)");
    }
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-Xmx" + heap);
    command.add("-Dai.djl.offline=true");
    command.add("-Dquarkus.http.port=" + httpPort);
    properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
    command.add("-jar");
    command.add(jar.toString());
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .redirectInput(new File("/dev/null"));
      pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
      pb.environment().putAll(env);
      return new ServiceProcess(name, pb.start(), log, httpPort);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  /** Waits until {@code /q/health/ready} answers 200; on failure the process is stopped. */
  public void awaitReady(Duration timeout) {
    try {
      pollReady(timeout);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void pollReady(Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    URI ready = URI.create("http://localhost:" + httpPort + "/q/health/ready");
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with code " + process.exitValue() + "; see " + log
            + ":\n" + tail(25));
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        last = r.body();
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      sleep(500);
    }
    throw new IllegalStateException(name + " not ready after " + timeout.toSeconds() + " s (" + last + "); see " + log);
  }

  /** The text at {@code /q/metrics}, or an empty string when the service does not answer. */
  public String metrics() {
    try {
      return HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + "/q/metrics"))
              .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  public String name() {
    return name;
  }

  public Process process() {
    return process;
  }

  public Path log() {
    return log;
  }

  /** The port of {@code /q/health} and {@code /q/metrics} (what a scrape configuration points at). */
  public int httpPort() {
    return httpPort;
  }

  /** The last lines of the log. */
  public String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** Kills the process at once (SIGKILL), as a crash would. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the service: SIGTERM, up to 30 s for a clean shutdown, then SIGKILL. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
