package dev.reft.reward;

import dev.reft.kafka.local.KafkaBrokerTestResource;
import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.schemas.Topics;
import java.util.Optional;

/** A real in-JVM broker with the catalog's topics, started before the application. */
public class CatalogTopicsKafka extends KafkaBrokerTestResource {

  /** The broker of the running test, for tests that produce and consume. */
  static volatile LocalKafkaBroker current;

  @Override
  protected void onStarted(LocalKafkaBroker broker) {
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    current = broker;
  }
}
