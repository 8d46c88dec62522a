package dev.reft.cli.services;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Finds the services' packaged jars and builds those that are missing or older than their sources. */
public final class ServiceJars {

  /** The three services, in the order a pipeline starts them. */
  public static final List<String> SERVICES = List.of("reward-service", "learner-service", "sampler-service");

  private ServiceJars() {}

  /** {@code <root>/<module>/target/quarkus-app/quarkus-run.jar}. */
  public static Path jar(Path root, String module) {
    return root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
  }

  /** The repository root: the working directory of {@code ./reft}, or {@code reft.root}. */
  public static Path root() {
    return Path.of(System.getProperty("reft.root", ".")).toAbsolutePath().normalize();
  }

  /**
   * Builds ({@code mvn -DskipTests package}) the given modules whose jar is missing or older than an input of the
   * modules it is built from ({@link BuildGraph}). Prints one line when it builds. A built jar gets the build's start
   * time as its modification time: Maven leaves a jar untouched when only a pom changed, and a file edited during
   * the build is then still newer than the jar.
   */
  public static void ensureBuilt(Path root, List<String> modules) {
    BuildGraph graph = BuildGraph.read(root);
    Map<String, String> stale = new LinkedHashMap<>();
    for (String m : modules) {
      graph.whyStale(m, jar(root, m)).ifPresent(why -> stale.put(m, why));
    }
    if (stale.isEmpty()) {
      return;
    }
    Path buildLog = root.resolve("var/build-services.log");
    System.out.println("reft: building " + String.join(", ", stale.keySet()) + " (" + String.join("; ", stale.values())
        + "; log: " + buildLog + ") ...");
    try {
      Files.createDirectories(buildLog.getParent());
      FileTime start = FileTime.from(Instant.now());
      Process mvn = new ProcessBuilder("mvn", "-B", "-q", "-DskipTests", "package", "-pl",
          String.join(",", stale.keySet()), "-am")
          .directory(root.toFile())
          .redirectErrorStream(true)
          .redirectOutput(buildLog.toFile())
          .start();
      if (mvn.waitFor() != 0) {
        throw new IllegalStateException("building " + stale.keySet() + " failed; see " + buildLog);
      }
      for (String m : stale.keySet()) {
        Files.setLastModifiedTime(jar(root, m), start);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run mvn (is Maven installed?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while building", e);
    }
  }
}
