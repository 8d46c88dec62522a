package dev.reft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.cli.k8s.Manifests;
import dev.reft.schemas.ServiceAccess;
import dev.reft.schemas.Topic;
import dev.reft.schemas.Topics;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import io.strimzi.api.kafka.model.user.KafkaUserAuthorizationSimple;
import io.strimzi.api.kafka.model.user.KafkaUserScramSha512ClientAuthentication;
import io.strimzi.api.kafka.model.user.acl.AclRule;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Strimzi resources of {@code k8s/strimzi} are the catalog's: the KafkaTopics of {@code topics.yaml} are exactly
 * {@link Topics#ALL} with their partitions, cleanup policy and retention; the KafkaUsers of {@code users.yaml} are
 * exactly {@link ServiceAccess} with its grants. Read through Strimzi's own model classes.
 */
class TopicsManifestTest {

  private static final Path STRIMZI = Manifests.K8S.resolve("strimzi");

  @Test
  void strimziTopicsMatchTheCatalog() throws Exception {
    Map<String, String> manifest = new TreeMap<>();
    for (Manifests.Doc doc : Manifests.read(STRIMZI.resolve("topics.yaml"), "KafkaTopic")) {
      KafkaTopic t = doc.as(KafkaTopic.class);
      Map<String, Object> config = t.getSpec().getConfig();
      manifest.put(t.getSpec().getTopicName(), t.getSpec().getPartitions() + "/" + config.get("cleanup.policy") + "/"
          + Optional.ofNullable(config.get("retention.ms")).map(Object::toString).orElse("default"));
      assertThat(t.getMetadata().getName()).isEqualTo(t.getSpec().getTopicName().replace('.', '-'));
      assertThat(t.getSpec().getReplicas()).as("replicas of %s", t.getSpec().getTopicName()).isEqualTo(3);
    }
    Map<String, String> catalog = new TreeMap<>();
    for (Topic<?, ?> t : Topics.ALL) {
      catalog.put(t.defaultName(), t.partitions() + "/" + t.cleanupPolicy() + "/"
          + (t.retentionMs() == Topic.BROKER_DEFAULT ? "default" : Long.toString(t.retentionMs())));
    }
    assertThat(manifest).isEqualTo(catalog);
    // What reports read back is never deleted.
    assertThat(catalog).containsEntry("reft.eval", "1/delete/-1").containsEntry("reft.learner.updates", "1/delete/-1")
        .containsEntry("reft.reward.stats", "1/compact/default").containsEntry("reft.checkpoints", "1/compact/default");
  }

  @Test
  void strimziUsersHoldExactlyTheServicesGrants() throws Exception {
    Map<String, String> manifest = new TreeMap<>();
    for (Manifests.Doc doc : Manifests.read(STRIMZI.resolve("users.yaml"), "KafkaUser")) {
      KafkaUser u = doc.as(KafkaUser.class);
      assertThat(u.getSpec().getAuthentication()).isInstanceOf(KafkaUserScramSha512ClientAuthentication.class);
      KafkaUserAuthorizationSimple authz = (KafkaUserAuthorizationSimple) u.getSpec().getAuthorization();
      manifest.put(u.getMetadata().getName(), authz.getAcls().stream().map(TopicsManifestTest::grant).sorted()
          .collect(Collectors.joining("\n")));
    }
    Map<String, String> catalog = new TreeMap<>();
    for (ServiceAccess s : ServiceAccess.values()) {
      catalog.put(s.user(), s.grants(key -> Optional.empty()).stream().map(g -> g.type().name().toLowerCase(Locale.ROOT)
              .replace("_", "") + " " + g.name() + " " + g.pattern().name().toLowerCase(Locale.ROOT).replace("prefixed", "prefix")
              + " " + new TreeSet<>(g.operations().stream().map(o -> o.name().toLowerCase(Locale.ROOT)).toList()))
          .sorted().collect(Collectors.joining("\n")));
    }
    assertThat(manifest).isEqualTo(catalog);
  }

  private static String grant(AclRule rule) {
    Object resource = rule.getResource();
    String name;
    String pattern;
    try {
      name = (String) resource.getClass().getMethod("getName").invoke(resource);
      pattern = resource.getClass().getMethod("getPatternType").invoke(resource).toString().toLowerCase(Locale.ROOT);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("resource without name/patternType: " + resource, e);
    }
    return rule.getResource().getType().toLowerCase(Locale.ROOT) + " " + name + " " + pattern + " "
        + new TreeSet<>(rule.getOperations().stream().map(o -> o.toValue().toLowerCase(Locale.ROOT)).toList());
  }
}
