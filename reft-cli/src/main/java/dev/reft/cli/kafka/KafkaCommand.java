package dev.reft.cli.kafka;

import dev.reft.cli.Settings;
import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.schemas.Topic;
import dev.reft.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code reft kafka start|stop|status}: a local single-node KRaft broker as a background process. */
@Command(
    name = "kafka",
    mixinStandardHelpOptions = true,
    description = "Run a local single-node Kafka broker (KRaft, from Kafka's jars; no Docker).",
    subcommands = {KafkaCommand.Start.class, KafkaCommand.Stop.class, KafkaCommand.Status.class})
public final class KafkaCommand implements Runnable {

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Options shared by the subcommands. */
  static class Home {
    @Option(names = "--dir", defaultValue = "var/kafka", description = "Broker home: data, log, pid (default: ${DEFAULT-VALUE}).")
    Path dir;

    LocalBrokerProcess process() {
      return new LocalBrokerProcess(dir);
    }
  }

  @Command(name = "start", mixinStandardHelpOptions = true,
      description = "Start the broker in the background, wait until it is ready and create the catalog's topics.")
  static final class Start implements Callable<Integer> {
    @picocli.CommandLine.Mixin Home home;

    @Option(names = "--port", defaultValue = "9092", description = "Client port on localhost (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--controller-port", defaultValue = "9093", description = "KRaft controller port (default: ${DEFAULT-VALUE}).")
    int controllerPort;

    @Option(names = "--timeout", defaultValue = "60", description = "Seconds to wait for readiness (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() {
      LocalBrokerProcess broker = home.process();
      long t0 = System.nanoTime();
      ProcessHandle process;
      try {
        process = broker.start(port, controllerPort, Duration.ofSeconds(timeoutSeconds));
      } catch (LocalBrokerProcess.AlreadyRunningException e) {
        System.out.println("Kafka is already running on localhost:" + e.port() + " (pid " + e.pid() + ").");
        ensureTopics("localhost:" + e.port());
        return 0;
      } catch (IllegalStateException e) {
        System.err.println("reft kafka start: " + e.getMessage());
        return 1;
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      int created = ensureTopics("localhost:" + port);
      System.out.printf("Kafka ready on localhost:%d in %.1f s (pid %d); %d topics ready.%n",
          port, seconds, process.pid(), created);
      System.out.println("  data: " + broker.dataDir());
      System.out.println("  log:  " + broker.logFile());
      System.out.println("Stop it with: ./reft kafka stop" + (home.dir.equals(Path.of("var/kafka")) ? "" : " --dir " + home.dir));
      return 0;
    }
  }

  /** Creates the catalog's topics that are missing; returns how many catalog topics exist. */
  static int ensureTopics(String bootstrap) {
    try (Admin admin = LocalBrokerProcess.admin(bootstrap)) {
      LocalKafkaBroker.createTopics(admin, Topics.newTopics(Settings::lookup, (short) 1));
    }
    return Topics.ALL.size();
  }

  @Command(name = "stop", mixinStandardHelpOptions = true,
      description = "Stop the broker: SIGTERM, wait for a clean shutdown, then kill after the timeout. Data is kept.")
  static final class Stop implements Callable<Integer> {
    @picocli.CommandLine.Mixin Home home;

    @Option(names = "--timeout", defaultValue = "30", description = "Seconds to wait before killing (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() {
      LocalBrokerProcess broker = home.process();
      Optional<ProcessHandle> running = broker.running();
      if (running.isEmpty()) {
        System.out.println("Kafka is not running (" + broker.home() + ").");
        return 0;
      }
      long t0 = System.nanoTime();
      try {
        broker.stop(Duration.ofSeconds(timeoutSeconds));
      } catch (IllegalStateException e) {
        System.err.println("reft kafka stop: " + e.getMessage());
        return 1;
      }
      System.out.printf("Kafka stopped (pid %d) in %.1f s; data kept in %s.%n",
          running.get().pid(), (System.nanoTime() - t0) / 1e9, broker.dataDir());
      return 0;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show whether the broker runs and list the catalog's topics. Exit code 0 = running, 3 = not running.")
  static final class Status implements Callable<Integer> {
    @picocli.CommandLine.Mixin Home home;

    @Override
    public Integer call() {
      LocalBrokerProcess broker = home.process();
      Optional<ProcessHandle> running = broker.running();
      if (running.isEmpty()) {
        System.out.println("Kafka is not running (" + broker.home() + ").");
        return 3;
      }
      int port = broker.recordedPort().orElse(9092);
      String bootstrap = "localhost:" + port;
      try (Admin admin = LocalBrokerProcess.admin(bootstrap)) {
        var cluster = admin.describeCluster();
        String clusterId = cluster.clusterId().get(10, TimeUnit.SECONDS);
        int nodes = cluster.nodes().get(10, TimeUnit.SECONDS).size();
        System.out.printf("Kafka is running on %s (pid %d, cluster %s, %d node).%n",
            bootstrap, running.get().pid(), clusterId, nodes);
        Map<String, TopicDescription> topics = admin.describeTopics(
            Topics.ALL.stream().map(t -> t.name(Settings::lookup)).toList()).allTopicNames()
            .toCompletionStage().toCompletableFuture()
            .exceptionally(e -> Map.of()).get(10, TimeUnit.SECONDS);
        for (Topic<?, ?> t : Topics.ALL) {
          String name = t.name(Settings::lookup);
          TopicDescription d = topics.get(name);
          System.out.printf("  %-28s %s%n", name,
              d == null ? "MISSING (run ./reft kafka start to create it)" : d.partitions().size() + " partitions, " + t.cleanupPolicy());
        }
        return 0;
      } catch (Exception e) {
        System.out.println("Kafka process " + running.get().pid() + " runs but does not answer on " + bootstrap
            + ": " + e.getMessage());
        return 1;
      }
    }
  }
}
