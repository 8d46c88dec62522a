package dev.reft.kafka.local;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Quarkus test resource: starts a real in-JVM KRaft broker before the application and points the Kafka
 * connector and Kafka Streams at it. Use with {@code @QuarkusTestResource(KafkaBrokerTestResource.class)}
 * (or {@code @WithTestResource}); Dev Services stay disabled. Subclass and override {@link #onStarted} to
 * create topics before the application starts.
 */
public class KafkaBrokerTestResource implements QuarkusTestResourceLifecycleManager {

  private LocalKafkaBroker broker;

  @Override
  public Map<String, String> start() {
    broker = LocalKafkaBroker.builder().build().start();
    onStarted(broker);
    String bootstrap = broker.bootstrapServers();
    return Map.of(
        "kafka.bootstrap.servers", bootstrap,
        "quarkus.kafka-streams.bootstrap-servers", bootstrap,
        "quarkus.kafka.devservices.enabled", "false");
  }

  /** Called once the broker answers, before the application starts; does nothing by default. */
  protected void onStarted(LocalKafkaBroker broker) {}

  @Override
  public void stop() {
    if (broker != null) {
      broker.close();
      broker = null;
    }
  }

  /** The broker while the resource is started (for tests that need an admin client). */
  public LocalKafkaBroker broker() {
    return broker;
  }
}
