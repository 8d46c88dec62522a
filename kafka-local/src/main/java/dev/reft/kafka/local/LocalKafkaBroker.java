package dev.reft.kafka.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real single-node Kafka broker in KRaft mode (broker and controller in one node), run from Kafka's own
 * jars in the current JVM.
 *
 * <p>Used two ways: inside a test JVM (see {@link KafkaBrokerExtension} and {@link KafkaBrokerTestResource}),
 * and as its own process by {@code reft kafka start} (see {@link LocalKafkaMain}). Storage is formatted on
 * first start; a formatted directory is reused, so a restarted broker keeps its topics and records.
 *
 * <pre>{@code
 * try (LocalKafkaBroker broker = LocalKafkaBroker.builder().build().start()) {
 *   broker.createTopics(List.of(new NewTopic("t", 1, (short) 1)));
 *   String bootstrap = broker.bootstrapServers();
 * }
 * }</pre>
 */
public final class LocalKafkaBroker implements AutoCloseable {

  private static final String CONTROLLER_LISTENER = "CONTROLLER";
  private static final int NODE_ID = 1;

  private final Path logDir;
  private final boolean deleteOnClose;
  private final int port;
  private final int controllerPort;
  private final Map<String, String> overrides;
  private final Scram scram;
  private KafkaRaftServer server;

  private LocalKafkaBroker(Builder b) throws IOException {
    if (b.logDir == null) {
      this.logDir = Files.createTempDirectory("reft-kafka-");
      this.deleteOnClose = true;
    } else {
      this.logDir = b.logDir.toAbsolutePath();
      this.deleteOnClose = b.deleteOnClose;
    }
    this.port = b.port == 0 ? freePort() : b.port;
    this.controllerPort = b.controllerPort == 0 ? freePort() : b.controllerPort;
    this.overrides = Map.copyOf(b.overrides);
    this.scram = b.scram;
  }

  /** The SCRAM mechanism of {@link Builder#optScram}. */
  public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";

  /** The super user of a secured broker, who authenticates the broker to itself and runs {@link #admin()}. */
  private record Scram(String user, String password) {}

  /** A builder; by default a fresh temporary log directory and free ports. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link LocalKafkaBroker}. */
  public static final class Builder {
    private Path logDir;
    private boolean deleteOnClose;
    private int port;
    private int controllerPort;
    private final Map<String, String> overrides = new HashMap<>();
    private Scram scram;

    private Builder() {}

    /**
     * Secure the broker as a production cluster would be: clients authenticate with SASL {@value LocalKafkaBroker#SCRAM_MECHANISM}
     * (listener {@code SASL_PLAINTEXT}), and Kafka's {@code StandardAuthorizer} allows only what ACLs grant. The
     * given user is the only super user: its SCRAM credential is written when storage is formatted, the broker
     * authenticates to itself with it, and {@link LocalKafkaBroker#admin()} uses it. Create further users with
     * {@link LocalKafkaBroker#addScramUser} and grant them ACLs with {@link LocalKafkaBroker#createAcls}. The
     * KRaft controller listener uses SASL PLAIN with the same user (SCRAM credentials live in the metadata log,
     * which a controller cannot read before it authenticates).
     */
    public Builder optScram(String superUser, String password) {
      this.scram = new Scram(Objects.requireNonNull(superUser), Objects.requireNonNull(password));
      return this;
    }

    /** Keep data in this directory (formatted on first start). Default: a fresh temporary directory. */
    public Builder optLogDir(Path dir) {
      this.logDir = Objects.requireNonNull(dir);
      return this;
    }

    /** Delete the log directory on {@link #close()} (always true for the temporary default). */
    public Builder optDeleteOnClose(boolean delete) {
      this.deleteOnClose = delete;
      return this;
    }

    /** Client port on localhost; 0 (default) picks a free one. */
    public Builder optPort(int port) {
      this.port = checkPort(port);
      return this;
    }

    /** Controller (KRaft quorum) port on localhost; 0 (default) picks a free one. */
    public Builder optControllerPort(int port) {
      this.controllerPort = checkPort(port);
      return this;
    }

    /** Any broker property, e.g. {@code log.retention.hours}. */
    public Builder optConfig(String key, String value) {
      overrides.put(key, value);
      return this;
    }

    /** The broker, not started yet. */
    public LocalKafkaBroker build() {
      if (port != 0 && port == controllerPort) {
        throw new IllegalArgumentException("client and controller ports must differ: " + port);
      }
      try {
        return new LocalKafkaBroker(this);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a Kafka log directory", e);
      }
    }

    private static int checkPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("not a TCP port: " + port);
      }
      return port;
    }
  }

  /**
   * Formats storage if needed, starts the broker and waits until it answers a client.
   *
   * @throws IllegalStateException when a port is taken or the broker does not come up within 60 s
   */
  public synchronized LocalKafkaBroker start() {
    if (server != null) {
      return this;
    }
    requirePortFree(port);
    requirePortFree(controllerPort);
    try {
      Files.createDirectories(logDir);
      KafkaConfig config = KafkaConfig.fromProps(brokerProperties(), false);
      if (!Files.exists(logDir.resolve("meta.properties"))) {
        format();
      }
      server = new KafkaRaftServer(config, Time.SYSTEM);
      server.startup();
      awaitReady(Duration.ofSeconds(60));
      return this;
    } catch (RuntimeException | IOException e) {
      close();
      throw new IllegalStateException("Kafka broker did not start (log dir " + logDir + "): " + e.getMessage(), e);
    }
  }

  /** {@code localhost:<port>}, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return "localhost:" + port;
  }

  /** The client port. */
  public int port() {
    return port;
  }

  /** The log (data) directory. */
  public Path logDir() {
    return logDir;
  }

  /** Creates the topics that do not exist yet; existing topics are left as they are. */
  public void createTopics(Collection<NewTopic> topics) {
    try (Admin admin = admin()) {
      createTopics(admin, topics);
    }
  }

  /** Creates the topics that do not exist yet through an existing admin client. */
  public static void createTopics(Admin admin, Collection<NewTopic> topics) {
    Set<String> existing;
    try {
      existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing topics", e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot list topics: " + e.getMessage(), e);
    }
    List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
    if (missing.isEmpty()) {
      return;
    }
    List<String> failures = new ArrayList<>();
    admin.createTopics(missing).values().forEach((name, future) -> {
      try {
        future.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          failures.add(name + ": " + e.getCause().getMessage());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failures.add(name + ": interrupted");
      } catch (java.util.concurrent.TimeoutException e) {
        failures.add(name + ": timed out");
      }
    });
    if (!failures.isEmpty()) {
      throw new IllegalStateException("cannot create topics: " + String.join(", ", failures));
    }
    awaitWritable(admin, missing.stream().map(NewTopic::name).toList(), Duration.ofSeconds(60));
  }

  /**
   * Waits until every partition of the topics is hosted by its leader, i.e. until a ListOffsets request for
   * each partition succeeds. That request is answered by the replica manager, not from the metadata cache, so
   * it succeeds only once the broker has applied the topic creation.
   *
   * <p>Why wait at all: an idempotent producer that writes to a partition the moment it is created can have
   * its first request refused with a retriable NOT_LEADER_OR_FOLLOWER while a later request is accepted; the
   * first request's records then fail every retry with OUT_OF_ORDER_SEQUENCE_NUMBER until
   * {@code delivery.timeout.ms} drops them (KAFKA-15591, fixed only after Kafka 4.1). Creating topics through
   * this method closes that window for everything in this project.
   */
  public static void awaitWritable(Admin admin, Collection<String> topics, Duration timeout) {
    if (topics.isEmpty()) {
      return;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS).forEach((name, description) ->
            description.partitions().forEach(p -> latest.put(new TopicPartition(name,
                p.partition()), OffsetSpec.latest())));
        admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for topics " + topics, e);
      } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
        last = e;
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for topics " + topics, ie);
        }
      }
    }
    throw new IllegalStateException("topics " + topics + " were created but their partitions have no leader after "
        + timeout.toSeconds() + " s: " + (last == null ? "" : last.getMessage()), last);
  }

  /** A new admin client for this broker (the super user on a secured broker); the caller closes it. */
  public Admin admin() {
    Map<String, Object> config = new HashMap<>(clientSecurity());
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
    return Admin.create(config);
  }

  /** {@code bootstrap.servers} plus {@link #clientSecurity()}: what a client needs to reach this broker as its super user. */
  public Map<String, Object> clientConfig() {
    Map<String, Object> config = new HashMap<>(clientSecurity());
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    return config;
  }

  /** Whether clients must authenticate ({@link Builder#optScram}). */
  public boolean secured() {
    return scram != null;
  }

  /** The super user's client security settings on a secured broker; empty otherwise. */
  public Map<String, Object> clientSecurity() {
    return scram == null ? Map.of() : scramClientSecurity(scram.user(), scram.password());
  }

  /**
   * The client settings that authenticate as a SCRAM user on a {@link Builder#optScram secured} broker:
   * {@code security.protocol}, {@code sasl.mechanism}, {@code sasl.jaas.config}.
   */
  public static Map<String, Object> scramClientSecurity(String user, String password) {
    return Map.of(
        "security.protocol", "SASL_PLAINTEXT",
        "sasl.mechanism", SCRAM_MECHANISM,
        "sasl.jaas.config", jaas("org.apache.kafka.common.security.scram.ScramLoginModule", user, password, ""));
  }

  /** Creates or replaces a SCRAM user (the super user does it through the admin client). */
  public void addScramUser(String user, String password) {
    requireSecured();
    try (Admin admin = admin()) {
      admin.alterUserScramCredentials(List.of(new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(user,
          new org.apache.kafka.clients.admin.ScramCredentialInfo(org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512,
              4096), password))).all().get(30, TimeUnit.SECONDS);
      // The credential is applied by the broker from the metadata log: wait until it is visible.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!admin.describeUserScramCredentials(List.of(user)).all().get(10, TimeUnit.SECONDS).containsKey(user)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("SCRAM user " + user + " not visible after 30 s");
        }
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while adding SCRAM user " + user, e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot add SCRAM user " + user + ": " + e.getMessage(), e);
    }
  }

  /** Creates ACLs (the super user does it through the admin client). */
  public void createAcls(Collection<org.apache.kafka.common.acl.AclBinding> acls) {
    requireSecured();
    try (Admin admin = admin()) {
      admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating ACLs", e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("cannot create ACLs: " + e.getMessage(), e);
    }
  }

  private void requireSecured() {
    if (scram == null) {
      throw new IllegalStateException("the broker was not built with optScram: it has no users or ACLs");
    }
  }

  private static String jaas(String module, String user, String password, String extra) {
    return module + " required username=\"" + user + "\" password=\"" + password + "\"" + extra + ";";
  }

  /** Stops the broker, waits for it, and deletes a temporary log directory. */
  @Override
  public synchronized void close() {
    if (server != null) {
      try {
        server.shutdown();
        server.awaitShutdown();
      } finally {
        server = null;
      }
    }
    if (deleteOnClose) {
      deleteRecursively(logDir);
    }
  }

  private Properties brokerProperties() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@localhost:" + controllerPort);
    p.put("controller.listener.names", CONTROLLER_LISTENER);
    if (scram == null) {
      p.put("listeners", "PLAINTEXT://localhost:" + port + "," + CONTROLLER_LISTENER + "://localhost:" + controllerPort);
      p.put("advertised.listeners", "PLAINTEXT://localhost:" + port);
      p.put("inter.broker.listener.name", "PLAINTEXT");
      p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
    } else {
      p.put("listeners", "CLIENT://localhost:" + port + "," + CONTROLLER_LISTENER + "://localhost:" + controllerPort);
      p.put("advertised.listeners", "CLIENT://localhost:" + port);
      p.put("inter.broker.listener.name", "CLIENT");
      p.put("listener.security.protocol.map", "CLIENT:SASL_PLAINTEXT," + CONTROLLER_LISTENER + ":SASL_PLAINTEXT");
      p.put("sasl.enabled.mechanisms", SCRAM_MECHANISM);
      p.put("sasl.mechanism.inter.broker.protocol", SCRAM_MECHANISM);
      p.put("listener.name.client.scram-sha-512.sasl.jaas.config",
          jaas("org.apache.kafka.common.security.scram.ScramLoginModule", scram.user(), scram.password(), ""));
      p.put("sasl.mechanism.controller.protocol", "PLAIN");
      p.put("listener.name.controller.sasl.enabled.mechanisms", "PLAIN");
      p.put("listener.name.controller.plain.sasl.jaas.config",
          jaas("org.apache.kafka.common.security.plain.PlainLoginModule", scram.user(), scram.password(),
              " user_" + scram.user() + "=\"" + scram.password() + "\""));
      p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
      p.put("super.users", "User:" + scram.user());
      p.put("allow.everyone.if.no.acl.found", "false");
    }
    p.put("log.dirs", logDir.toString());
    // A single node: every internal topic has one replica.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "1");
    // Topics are created explicitly from the catalog; a misspelt name should fail loudly, not appear.
    p.put("auto.create.topics.enable", "false");
    p.putAll(overrides);
    return p;
  }

  private void format() throws IOException {
    try {
      new Formatter()
          .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
          .setClusterId(Uuid.randomUuid().toString())
          .setNodeId(NODE_ID)
          .setControllerListenerName(CONTROLLER_LISTENER)
          .setMetadataLogDirectory(logDir.toString())
          .setDirectories(List.of(logDir.toString()))
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .setReleaseVersion(MetadataVersion.latestProduction())
          .setScramArguments(scram == null ? List.of()
              : List.of(SCRAM_MECHANISM + "=[name=" + scram.user() + ",password=" + scram.password() + "]"))
          .run();
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("cannot format Kafka storage in " + logDir + ": " + e.getMessage(), e);
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    try (Admin admin = admin()) {
      while (System.nanoTime() < deadline) {
        try {
          admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
          admin.listTopics().names().get(5, TimeUnit.SECONDS);
          return;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the broker", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
          last = e;
        }
      }
    }
    throw new IllegalStateException("broker not ready after " + timeout.toSeconds() + " s", last);
  }

  /** Fails with a clear message if something listens on the port. */
  static void requirePortFree(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("localhost"))) {
      socket.setReuseAddress(true);
    } catch (IOException e) {
      throw new IllegalStateException("port " + port + " on localhost is already in use (another Kafka broker?)", e);
    }
  }

  /** A currently free TCP port on localhost. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // best effort: a temporary directory
        }
      });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
