package dev.reft.cli.kafka;

import dev.reft.kafka.local.LocalKafkaMain;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * The local broker as a background process, managed through files in its home directory
 * (default {@code ./var/kafka}):
 *
 * <ul>
 *   <li>{@code data/} — the KRaft log directory (formatted on first start, kept across restarts);
 *   <li>{@code broker.pid} — the process id while it runs;
 *   <li>{@code broker.properties} — the ports it was started with;
 *   <li>{@code broker.log} — everything the broker logs.
 * </ul>
 */
public final class LocalBrokerProcess {

  private final Path home;

  public LocalBrokerProcess(Path home) {
    this.home = home.toAbsolutePath().normalize();
  }

  public Path home() {
    return home;
  }

  public Path dataDir() {
    return home.resolve("data");
  }

  public Path logFile() {
    return home.resolve("broker.log");
  }

  private Path pidFile() {
    return home.resolve("broker.pid");
  }

  private Path propertiesFile() {
    return home.resolve("broker.properties");
  }

  /** The running broker's process, if the pid file names a live java process. */
  public Optional<ProcessHandle> running() {
    if (!Files.exists(pidFile())) {
      return Optional.empty();
    }
    try {
      // "<pid> <start time in epoch ms>": a stale file may name a pid the OS has since reused.
      String[] parts = Files.readString(pidFile()).trim().split("\\s+");
      long pid = Long.parseLong(parts[0]);
      Optional<Long> started = parts.length > 1 ? Optional.of(Long.parseLong(parts[1])) : Optional.empty();
      return ProcessHandle.of(pid)
          .filter(ProcessHandle::isAlive)
          .filter(p -> started.isEmpty() || p.info().startInstant().map(i -> i.toEpochMilli() == started.get()).orElse(true));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** The client port recorded when the broker was started. */
  public Optional<Integer> recordedPort() {
    if (!Files.exists(propertiesFile())) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(propertiesFile())) {
      p.load(in);
      return Optional.ofNullable(p.getProperty("port")).map(Integer::parseInt);
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Starts the broker process and waits until a client can connect.
   *
   * @return the process
   * @throws IllegalStateException if it runs already, a port is taken, or it does not come up in time
   */
  public ProcessHandle start(int port, int controllerPort, Duration timeout) {
    Optional<ProcessHandle> existing = running();
    if (existing.isPresent()) {
      throw new AlreadyRunningException(existing.get().pid(), recordedPort().orElse(port));
    }
    requirePortFree(port, "client");
    requirePortFree(controllerPort, "controller");
    try {
      Files.createDirectories(home);
      Properties props = new Properties();
      props.setProperty("port", Integer.toString(port));
      props.setProperty("controllerPort", Integer.toString(controllerPort));
      try (var out = Files.newBufferedWriter(propertiesFile())) {
        props.store(out, "reft kafka start");
      }
      List<String> command = new ArrayList<>();
      command.add(ProcessHandle.current().info().command().orElse("java"));
      command.add("-Xms256m");
      command.add("-Xmx1g");
      command.add("-Dlog4j2.configurationFile=classpath:kafka-broker-log4j2.properties");
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(LocalKafkaMain.class.getName());
      command.add("--log-dir");
      command.add(dataDir().toString());
      command.add("--port");
      command.add(Integer.toString(port));
      command.add("--controller-port");
      command.add(Integer.toString(controllerPort));
      Files.writeString(logFile(), "", StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      Process process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
      Files.writeString(pidFile(), process.pid() + " "
          + process.toHandle().info().startInstant().map(i -> Long.toString(i.toEpochMilli())).orElse(""));
      awaitReady(process, port, timeout);
      return process.toHandle();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the broker in " + home, e);
    }
  }

  private void awaitReady(Process process, int port, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = admin("localhost:" + port)) {
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          deletePidFile();
          throw new IllegalStateException("the broker exited with code " + process.exitValue()
              + " during start-up; see " + logFile() + ":\n" + tail(20));
        }
        try {
          admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
          return;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        } catch (Exception e) {
          sleep(200);
        }
      }
    }
    stop(Duration.ofSeconds(10));
    throw new IllegalStateException("the broker did not answer within " + timeout.toSeconds()
        + " s; stopped it. See " + logFile() + ":\n" + tail(20));
  }

  /**
   * Stops the broker: SIGTERM, wait up to {@code timeout} for a clean shutdown, then kill.
   *
   * @return {@code true} if a broker was running
   */
  public boolean stop(Duration timeout) {
    Optional<ProcessHandle> process = running();
    if (process.isEmpty()) {
      deletePidFile();
      return false;
    }
    ProcessHandle p = process.get();
    p.destroy();
    try {
      p.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      p.destroyForcibly();
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // reported below
      }
    }
    if (p.isAlive()) {
      throw new IllegalStateException("broker pid " + p.pid() + " did not exit even after SIGKILL");
    }
    deletePidFile();
    return true;
  }

  /** The last lines of the broker log. */
  public String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** An admin client for a bootstrap address, with short timeouts for interactive use. */
  public static Admin admin(String bootstrap) {
    return admin(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  /** An admin client with these client properties (bootstrap servers, security), short timeouts added. */
  public static Admin admin(Map<String, Object> client) {
    Map<String, Object> config = new java.util.HashMap<>(client);
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
    config.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
    return Admin.create(config);
  }

  /** How long {@link #requireReachable} waits for a cluster to answer. */
  public static final Duration REACH_TIMEOUT = Duration.ofSeconds(15);

  /**
   * Fails fast, with one clear line, when nothing answers at {@code bootstrap}: Kafka's clients would otherwise retry
   * for their API timeout (60 s by default) inside the first call, and some calls longer.
   *
   * @throws IllegalStateException when the cluster does not answer within {@link #REACH_TIMEOUT}
   */
  public static void requireReachable(String bootstrap) {
    requireReachable(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  /** As {@link #requireReachable(String)}, with these client properties (bootstrap servers, security). */
  public static void requireReachable(Map<String, Object> client) {
    Object bootstrap = client.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
    try (Admin admin = admin(client)) {
      admin.describeCluster().clusterId().get(REACH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting to Kafka at " + bootstrap, e);
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException | RuntimeException e) {
      throw new IllegalStateException("no Kafka cluster answers at " + bootstrap + " (waited "
          + REACH_TIMEOUT.toSeconds() + " s); start one with ./reft kafka start, or pass --bootstrap HOST:PORT", e);
    }
  }

  private void deletePidFile() {
    try {
      Files.deleteIfExists(pidFile());
    } catch (IOException ignored) {
      // nothing to clean
    }
  }

  private static void requirePortFree(int port, String what) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("localhost"))) {
      socket.setReuseAddress(true);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start: the " + what + " port " + port
          + " on localhost is already in use by another program (choose another with --"
          + ("client".equals(what) ? "port" : "controller-port") + ")");
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Start was asked for while a broker from the same home directory runs. */
  public static final class AlreadyRunningException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final long pid;
    private final int port;

    AlreadyRunningException(long pid, int port) {
      super("a broker already runs from this directory (pid " + pid + ", localhost:" + port + ")");
      this.pid = pid;
      this.port = port;
    }

    public long pid() {
      return pid;
    }

    public int port() {
      return port;
    }
  }
}
