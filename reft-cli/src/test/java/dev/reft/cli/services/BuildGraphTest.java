package dev.reft.cli.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The staleness rule on the repository's own poms: the closures are read from the real reactor, the timestamps are
 * played out on a copy of its poms with one placeholder source file per module and fake jars, so no Maven runs.
 */
class BuildGraphTest {

  /** The repository root: Maven runs the tests in reft-cli/. */
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  /** The jars users run, and the modules whose code each must hold (from what the services and the CLI do). */
  private static final Map<String, Set<String>> HOLDS = Map.of(
      "reft-cli", Set.of("reft-cli", "schemas", "kafka-local", "tasks", "policy", "learner"),
      "reward-service", Set.of("reward-service", "schemas", "tasks"),
      "sampler-service", Set.of("sampler-service", "schemas", "tasks", "policy"),
      "learner-service", Set.of("learner-service", "schemas", "tasks", "policy", "learner"));

  /** Modules a jar must not be rebuilt for: other deployables, and kafka-local, which services use in tests only. */
  private static final Map<String, Set<String>> NOT_FROM = Map.of(
      "reft-cli", Set.of("reward-service", "sampler-service", "learner-service"),
      "reward-service", Set.of("kafka-local", "policy", "learner", "sampler-service", "learner-service", "reft-cli"),
      "sampler-service", Set.of("kafka-local", "learner", "reward-service", "learner-service", "reft-cli"),
      "learner-service", Set.of("kafka-local", "reward-service", "sampler-service", "reft-cli"));

  private static final FileTime SOURCES = time(3);
  private static final FileTime BUILT = time(2);
  private static final FileTime EDITED = time(1);

  @TempDir
  Path tmp;

  private Path root;
  private BuildGraph graph;
  private final Map<String, Path> jars = new LinkedHashMap<>();

  @BeforeEach
  void copyTheReactor() throws IOException {
    assertThat(REPO.resolve("pom.xml")).content().contains("<artifactId>reft-parent</artifactId>");
    root = tmp.resolve("repo");
    Files.createDirectories(root);
    Files.copy(REPO.resolve("pom.xml"), root.resolve("pom.xml"));
    for (String m : BuildGraph.read(REPO).modules()) {
      Path src = root.resolve(m).resolve("src/main/java/Placeholder.java");
      Files.createDirectories(src.getParent());
      Files.copy(REPO.resolve(m).resolve("pom.xml"), root.resolve(m).resolve("pom.xml"));
      Files.writeString(src, "class Placeholder {}\n");
    }
    // The file of issue #14, and a test source, which no jar is built from.
    Files.createDirectories(root.resolve("learner/src/main/java/dev/reft/learner/rl"));
    Files.writeString(root.resolve("learner/src/main/java/dev/reft/learner/rl/PpoLoss.java"), "class PpoLoss {}\n");
    Files.createDirectories(root.resolve("learner/src/test/java"));
    Files.writeString(root.resolve("learner/src/test/java/PpoLossTest.java"), "class PpoLossTest {}\n");
    graph = BuildGraph.read(root);
    jars.put("reft-cli", root.resolve("reft-cli/target/reft-cli.jar"));
    for (String service : ServiceJars.SERVICES) {
      jars.put(service, ServiceJars.jar(root, service));
    }
    for (Path jar : jars.values()) {
      Files.createDirectories(jar.getParent());
      Files.writeString(jar, "jar");
    }
    build();
  }

  @Test
  void everyJarIsBuiltFromTheModulesItsPomsNameTransitively() {
    BuildGraph real = BuildGraph.read(REPO);
    assertThat(real.modules()).containsAll(HOLDS.keySet());
    HOLDS.forEach((jar, holds) -> assertThat(real.closure(jar)).as(jar).containsAll(holds));
    NOT_FROM.forEach((jar, not) -> assertThat(real.closure(jar)).as(jar).doesNotContainAnyElementsOf(not));
    // learner-service names learner, which names policy; the closure is in reactor order.
    assertThat(real.closure("learner-service")).containsSubsequence("policy", "learner", "learner-service");
    assertThatThrownBy(() -> real.closure("no-such-module")).hasMessageContaining("not a module");
  }

  @Test
  void freshlyBuiltJarsAreUpToDateAndMissingOnesAreStale() throws IOException {
    assertThat(stale()).isEmpty();
    Files.delete(jars.get("sampler-service"));
    assertThat(stale()).containsExactly("sampler-service");
    assertThat(graph.whyStale("sampler-service", jars.get("sampler-service")))
        .hasValue("sampler-service/target/quarkus-app/quarkus-run.jar is missing");
  }

  @Test
  void editingPpoLossMakesTheCliAndTheLearnerServiceStale() throws IOException {
    Path ppoLoss = root.resolve("learner/src/main/java/dev/reft/learner/rl/PpoLoss.java");
    Files.setLastModifiedTime(ppoLoss, EDITED);
    assertThat(stale()).containsExactlyInAnyOrder("reft-cli", "learner-service");
    assertThat(graph.whyStale("reft-cli", jars.get("reft-cli"))).hasValue(
        "learner/src/main/java/dev/reft/learner/rl/PpoLoss.java is newer than reft-cli/target/reft-cli.jar");
  }

  @Test
  void aSourceEditInAnyModuleMakesStaleEveryJarBuiltFromItAndNoOther() throws IOException {
    for (String module : graph.modules()) {
      build();
      Files.setLastModifiedTime(root.resolve(module).resolve("src/main/java/Placeholder.java"), EDITED);
      Set<String> stale = stale();
      Set<String> builtFromIt = jars.keySet().stream().filter(j -> graph.closure(j).contains(module))
          .collect(Collectors.toCollection(TreeSet::new));
      assertThat(stale).as("edited %s", module).isEqualTo(builtFromIt);
      HOLDS.forEach((jar, holds) -> {
        if (holds.contains(module)) {
          assertThat(stale).as("edited %s", module).contains(jar);
        }
      });
      NOT_FROM.forEach((jar, not) -> {
        if (not.contains(module)) {
          assertThat(stale).as("edited %s", module).doesNotContain(jar);
        }
      });
    }
  }

  @Test
  void pomEditsCountTestSourcesDoNot() throws IOException {
    Files.setLastModifiedTime(root.resolve("learner/src/test/java/PpoLossTest.java"), EDITED);
    assertThat(stale()).isEmpty();

    Files.setLastModifiedTime(root.resolve("learner/pom.xml"), EDITED);
    assertThat(stale()).containsExactlyInAnyOrder("reft-cli", "learner-service");

    build();
    Files.setLastModifiedTime(root.resolve("pom.xml"), EDITED);
    assertThat(stale()).containsExactlyInAnyOrderElementsOf(jars.keySet());
  }

  @Test
  void readsPomsWithoutNamespaceAndSkipsTestScopeAndForeignArtifacts() throws IOException {
    Path r = tmp.resolve("small");
    write(r.resolve("pom.xml"), "<project><groupId>g</groupId><artifactId>parent</artifactId><modules>"
        + "<module>a</module><module>b</module><module>c</module><module>app</module></modules>"
        + "<dependencyManagement><dependencies><dependency><groupId>g</groupId><artifactId>c</artifactId>"
        + "</dependency></dependencies></dependencyManagement></project>");
    write(r.resolve("a/pom.xml"), "<project><parent><groupId>g</groupId></parent><artifactId>a</artifactId></project>");
    write(r.resolve("b/pom.xml"), "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><groupId>g</groupId>"
        + "<artifactId>b</artifactId><dependencies>"
        + "<dependency><groupId>${project.groupId}</groupId><artifactId>a</artifactId></dependency>"
        + "<dependency><groupId>g</groupId><artifactId>c</artifactId><scope>test</scope></dependency>"
        + "</dependencies></project>");
    write(r.resolve("c/pom.xml"), "<project><parent><groupId>g</groupId></parent><artifactId>c</artifactId></project>");
    write(r.resolve("app/pom.xml"), "<p:project xmlns:p=\"http://maven.apache.org/POM/4.0.0\"><p:parent>"
        + "<p:groupId>g</p:groupId></p:parent><p:artifactId>application</p:artifactId><p:dependencies>"
        + "<p:dependency><p:groupId>g</p:groupId><p:artifactId>b</p:artifactId><p:scope>provided</p:scope></p:dependency>"
        + "<p:dependency><p:groupId>other</p:groupId><p:artifactId>c</p:artifactId></p:dependency>"
        + "</p:dependencies></p:project>");
    BuildGraph small = BuildGraph.read(r);
    assertThat(small.modules()).containsExactly("a", "b", "c", "app");
    assertThat(small.closure("app")).containsExactly("a", "b", "app");
    assertThat(small.closure("c")).containsExactly("c");
  }

  @Test
  void theProgramExitsZeroWhenUpToDateAndThreeWithTheReasonWhenStale() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] args = {root.toString(), "reft-cli", "reft-cli/target/reft-cli.jar"};
    assertThat(BuildGraph.run(args, print(out), print(err))).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();

    Files.setLastModifiedTime(root.resolve("kafka-local/src/main/java/Placeholder.java"), EDITED);
    assertThat(BuildGraph.run(args, print(out), print(err))).isEqualTo(BuildGraph.STALE);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .startsWith("kafka-local/src/main/java/Placeholder.java is newer than reft-cli/target/reft-cli.jar");

    assertThat(BuildGraph.run(new String[] {root.toString(), "nope", "x.jar"}, print(out), print(err))).isEqualTo(2);
    assertThat(BuildGraph.run(new String[0], print(out), print(err))).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("'nope' is not a module", "usage:");
  }

  /** Every input gets {@link #SOURCES}, every jar {@link #BUILT}: a build that has just run. */
  private void build() throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.setLastModifiedTime(f, jars.containsValue(f) ? BUILT : SOURCES);
      }
    }
  }

  private Set<String> stale() {
    return jars.entrySet().stream().filter(e -> graph.whyStale(e.getKey(), e.getValue()).isPresent())
        .map(Map.Entry::getKey).collect(Collectors.toCollection(TreeSet::new));
  }

  private static void write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
  }

  private static PrintStream print(ByteArrayOutputStream to) {
    return new PrintStream(to, true, StandardCharsets.UTF_8);
  }

  private static FileTime time(int hoursAgo) {
    return FileTime.from(Instant.now().minus(hoursAgo, ChronoUnit.HOURS));
  }
}
