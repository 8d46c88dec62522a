package dev.reft.kafka.local;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a {@link LocalKafkaBroker} as its own process until it is terminated (SIGTERM stops it cleanly).
 * Started by {@code reft kafka start}; prints {@code READY localhost:<port>} once clients can connect.
 *
 * <pre>
 * java -cp ... dev.reft.kafka.local.LocalKafkaMain --log-dir var/kafka/data --port 9092 --controller-port 9093
 * </pre>
 */
public final class LocalKafkaMain {

  private LocalKafkaMain() {}

  public static void main(String[] args) throws InterruptedException {
    Path logDir = null;
    int port = 9092;
    int controllerPort = 9093;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--log-dir" -> logDir = Path.of(require(args[i], value));
        case "--port" -> port = Integer.parseInt(require(args[i], value));
        case "--controller-port" -> controllerPort = Integer.parseInt(require(args[i], value));
        default -> {
          System.err.println("unknown argument: " + args[i]);
          System.exit(2);
        }
      }
      i++;
    }
    if (logDir == null) {
      System.err.println("--log-dir is required");
      System.exit(2);
    }
    LocalKafkaBroker broker;
    try {
      broker = LocalKafkaBroker.builder().optLogDir(logDir).optPort(port).optControllerPort(controllerPort).build().start();
    } catch (RuntimeException e) {
      System.err.println("FAILED " + e.getMessage());
      e.printStackTrace();
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("STOPPING");
      broker.close();
      stopped.countDown();
    }, "kafka-shutdown"));
    System.out.println("READY " + broker.bootstrapServers());
    System.out.flush();
    stopped.await();
  }

  private static String require(String flag, String value) {
    if (value == null) {
      System.err.println(flag + " needs a value");
      System.exit(2);
    }
    return value;
  }
}
