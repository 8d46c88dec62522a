package dev.reft.cli.k8s;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The repository's Kubernetes manifests read into the model classes of the software that consumes them: fabric8's
 * Kubernetes model for core and apps objects, Strimzi's own {@code io.strimzi:api} for its custom resources, and
 * fabric8's Prometheus Operator model for PodMonitors. Both model families keep unknown fields in an
 * {@code additionalProperties} map instead of failing, so {@link #unknownFields} walks the deserialized object and
 * reports every such field: a misspelt or misplaced key is an error, as it would be for the API server's strict
 * field validation or the operator.
 */
public final class Manifests {

  /** The repository's {@code k8s/} directory (tests run in {@code reft-cli/}). */
  public static final Path K8S = Path.of("..", "k8s");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** apiVersion/kind → model class. */
  private static final Map<String, Class<?>> MODELS = Map.ofEntries(
      Map.entry("v1/Namespace", io.fabric8.kubernetes.api.model.Namespace.class),
      Map.entry("v1/ConfigMap", io.fabric8.kubernetes.api.model.ConfigMap.class),
      Map.entry("v1/Secret", io.fabric8.kubernetes.api.model.Secret.class),
      Map.entry("v1/Service", io.fabric8.kubernetes.api.model.Service.class),
      Map.entry("v1/PersistentVolumeClaim", io.fabric8.kubernetes.api.model.PersistentVolumeClaim.class),
      Map.entry("apps/v1/Deployment", io.fabric8.kubernetes.api.model.apps.Deployment.class),
      Map.entry("apps/v1/StatefulSet", io.fabric8.kubernetes.api.model.apps.StatefulSet.class),
      Map.entry("batch/v1/Job", io.fabric8.kubernetes.api.model.batch.v1.Job.class),
      Map.entry("policy/v1/PodDisruptionBudget", io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class),
      Map.entry("monitoring.coreos.com/v1/PodMonitor", io.fabric8.openshift.api.model.monitoring.v1.PodMonitor.class),
      Map.entry("kafka.strimzi.io/v1beta2/Kafka", io.strimzi.api.kafka.model.kafka.Kafka.class),
      Map.entry("kafka.strimzi.io/v1beta2/KafkaNodePool", io.strimzi.api.kafka.model.nodepool.KafkaNodePool.class),
      Map.entry("kafka.strimzi.io/v1beta2/KafkaTopic", io.strimzi.api.kafka.model.topic.KafkaTopic.class),
      Map.entry("kafka.strimzi.io/v1beta2/KafkaUser", io.strimzi.api.kafka.model.user.KafkaUser.class));

  private Manifests() {}

  /** One object of a manifest: where it came from, its raw tree and its model. */
  public record Doc(String source, JsonNode tree, Object model) {
    public String kind() {
      return tree.path("kind").asText();
    }

    public String name() {
      return tree.path("metadata").path("name").asText();
    }

    public <T> T as(Class<T> type) {
      return type.cast(model);
    }
  }

  /** Every Kubernetes manifest file under {@code k8s/}: {@code *.yaml} except kustomization files. */
  public static List<Path> files() throws IOException {
    try (Stream<Path> walk = Files.walk(K8S)) {
      return walk.filter(p -> p.toString().endsWith(".yaml") && !p.getFileName().toString().equals("kustomization.yaml"))
          .sorted().toList();
    }
  }

  /** The objects of one file (a multi-document YAML stream). */
  public static List<Doc> read(Path file) throws IOException {
    return parse(file.toString(), Files.readString(file));
  }

  /** The objects of a YAML stream. */
  public static List<Doc> parse(String source, String yaml) throws IOException {
    List<Doc> out = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
      int n = 0;
      while (it.hasNext()) {
        JsonNode tree = it.next();
        n++;
        if (tree == null || tree.isNull() || tree.isEmpty()) {
          continue;
        }
        String key = tree.path("apiVersion").asText() + "/" + tree.path("kind").asText();
        Class<?> model = MODELS.get(key);
        if (model == null) {
          throw new IllegalArgumentException(source + " document " + n + ": no model for " + key);
        }
        out.add(new Doc(source + " #" + n + " " + tree.path("kind").asText() + "/"
            + tree.path("metadata").path("name").asText(), tree, YAML.treeToValue(tree, model)));
      }
    }
    return out;
  }

  /** The objects of the given kind in a file. */
  public static List<Doc> read(Path file, String kind) throws IOException {
    return read(file).stream().filter(d -> d.kind().equals(kind)).toList();
  }

  /**
   * Every field the model did not know: {@code path: [keys]} for each object in the graph whose
   * {@code getAdditionalProperties()} is not empty.
   */
  public static List<String> unknownFields(Object model) {
    List<String> out = new ArrayList<>();
    walk(model, "", out, java.util.Collections.newSetFromMap(new IdentityHashMap<>()));
    return out;
  }

  private static void walk(Object o, String path, List<String> out, Set<Object> seen) {
    if (o == null || !seen.add(o)) {
      return;
    }
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) {
        walk(e, path + "[" + i++ + "]", out, seen);
      }
      return;
    }
    if (o instanceof Map<?, ?> m) {
      m.forEach((k, v) -> walk(v, path + "." + k, out, seen));
      return;
    }
    String pkg = o.getClass().getPackageName();
    if (!pkg.startsWith("io.fabric8") && !pkg.startsWith("io.strimzi")) {
      return;
    }
    for (Method getter : o.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || getter.getDeclaringClass() == Object.class) {
        continue;
      }
      String name = getter.getName();
      if (!name.startsWith("get") || name.equals("getClass")) {
        continue;
      }
      Object value;
      try {
        value = getter.invoke(o);
      } catch (ReflectiveOperationException | RuntimeException e) {
        continue;
      }
      if (name.equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          out.add((path.isEmpty() ? "." : path) + ": " + extra.keySet());
        }
        continue;
      }
      String field = Character.toLowerCase(name.charAt(3)) + name.substring(4);
      walk(value, path + "." + field, out, seen);
    }
  }
}
