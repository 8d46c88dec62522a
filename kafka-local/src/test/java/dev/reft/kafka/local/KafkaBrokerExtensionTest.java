package dev.reft.kafka.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@WithKafkaBroker
class KafkaBrokerExtensionTest {

  static LocalKafkaBroker fromBeforeAll;

  @BeforeAll
  static void create(LocalKafkaBroker broker) {
    fromBeforeAll = broker;
    broker.createTopics(List.of(new NewTopic("ext", 1, (short) 1)));
  }

  @Test
  void injectsOneBrokerPerClass(LocalKafkaBroker broker) throws Exception {
    assertThat(broker).isSameAs(fromBeforeAll);
    LocalKafkaBrokerTest.produce(broker, "ext", List.of("x"));
    assertThat(LocalKafkaBrokerTest.consumeAll(broker, "ext", 1)).containsExactly("x");
  }
}
