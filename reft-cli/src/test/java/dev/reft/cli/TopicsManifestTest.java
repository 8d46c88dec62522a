package dev.reft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.Topic;
import dev.reft.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Strimzi topics of {@code k8s/strimzi/topics.yaml} are exactly the catalog's, with its partitions and cleanup. */
class TopicsManifestTest {

  private static final Pattern TOPIC = Pattern.compile(
      "topicName: (\\S+)\\s+partitions: (\\d+)\\s+replicas: \\d+\\s+config:\\s+cleanup.policy: (\\w+)");

  @Test
  void strimziTopicsMatchTheCatalog() throws Exception {
    String yaml = Files.readString(Path.of("..", "k8s", "strimzi", "topics.yaml"));
    Map<String, String> manifest = new HashMap<>();
    Matcher m = TOPIC.matcher(yaml);
    while (m.find()) {
      manifest.put(m.group(1), m.group(2) + "/" + m.group(3));
    }
    Map<String, String> catalog = new HashMap<>();
    for (Topic<?, ?> t : Topics.ALL) {
      catalog.put(t.defaultName(), t.partitions() + "/" + t.cleanupPolicy());
    }
    assertThat(manifest).isEqualTo(catalog);
  }
}
