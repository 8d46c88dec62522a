package dev.reft.cli.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Every manifest under {@code k8s/} deserializes into the model of what consumes it (fabric8's Kubernetes model,
 * Strimzi's API classes, the Prometheus Operator model) without a field the model does not know; and every
 * kustomization (base, overlays, strimzi, monitoring) renders with {@code kubectl kustomize} into objects that do
 * the same — patches included.
 */
class ManifestsTest {

  @Test
  void everyManifestFileDeserializesWithoutUnknownFields() throws IOException {
    List<Path> files = Manifests.files();
    assertThat(files).as("manifests under k8s/").hasSizeGreaterThan(5);
    List<String> problems = new ArrayList<>();
    int objects = 0;
    for (Path file : files) {
      for (Manifests.Doc doc : Manifests.read(file)) {
        objects++;
        Manifests.unknownFields(doc.model()).forEach(u -> problems.add(doc.source() + " " + u));
      }
    }
    assertThat(objects).isGreaterThan(10);
    assertThat(problems).as("fields the models do not know").isEmpty();
  }

  @Test
  void theCheckFindsAMisplacedField() throws IOException {
    // A test that cannot fail is a defect: a field one level too deep must be reported.
    List<Manifests.Doc> docs = Manifests.parse("inline", """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: x}
        spec:
          serviceName: x
          selector: {matchLabels: {app: x}}
          template:
            metadata: {labels: {app: x}}
            spec:
              containers:
                - name: x
                  image: x
                  terminationGracePeriodSeconds: 90
        ---
        apiVersion: kafka.strimzi.io/v1beta2
        kind: KafkaTopic
        metadata: {name: t}
        spec: {topicName: t, partitions: 1, replica: 3}
        """);
    assertThat(Manifests.unknownFields(docs.get(0).model())).singleElement().asString()
        .contains("containers[0]").contains("terminationGracePeriodSeconds");
    assertThat(Manifests.unknownFields(docs.get(1).model())).singleElement().asString().contains("replica");
  }

  @Test
  void everyKustomizationRendersIntoValidObjects() throws Exception {
    String version = kubectlVersion();
    Assumptions.assumeTrue(version != null, "kubectl is not installed: kustomizations were not rendered "
        + "(Debian packages no current kubectl; install it from the Kubernetes apt repository)");
    java.util.regex.Matcher kustomize = java.util.regex.Pattern.compile("Kustomize Version: v(\\d+)").matcher(version);
    Assumptions.assumeTrue(kustomize.find() && Integer.parseInt(kustomize.group(1)) >= 4, "kubectl embeds a kustomize "
        + "older than v4 (" + version.lines().findFirst().orElse("") + "), which lacks `patches:`: not rendered");
    List<Path> dirs;
    try (Stream<Path> walk = Files.walk(Manifests.K8S)) {
      dirs = walk.filter(p -> p.getFileName().toString().equals("kustomization.yaml")).map(Path::getParent).sorted()
          .toList();
    }
    assertThat(dirs).extracting(d -> Manifests.K8S.relativize(d).toString())
        .contains("base", "strimzi", "monitoring", "overlays/gpu-learner", "overlays/ncot-restricted");
    List<String> problems = new ArrayList<>();
    for (Path dir : dirs) {
      String rendered = render(dir);
      List<Manifests.Doc> docs = Manifests.parse("kubectl kustomize " + Manifests.K8S.relativize(dir), rendered);
      assertThat(docs).as("objects of %s", dir).isNotEmpty();
      for (Manifests.Doc doc : docs) {
        Manifests.unknownFields(doc.model()).forEach(u -> problems.add(doc.source() + " " + u));
      }
    }
    assertThat(problems).as("fields the models do not know").isEmpty();
  }

  /** {@code kubectl kustomize DIR}. */
  static String render(Path dir) throws Exception {
    Process p = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = new String(out, java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("kubectl kustomize %s:%n%s", dir, text).isZero();
    return text;
  }

  /** {@code kubectl version --client}, or null when there is no kubectl. */
  static String kubectlVersion() {
    try {
      Process p = new ProcessBuilder("kubectl", "version", "--client").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
    } catch (IOException | InterruptedException e) {
      return null;
    }
  }
}
