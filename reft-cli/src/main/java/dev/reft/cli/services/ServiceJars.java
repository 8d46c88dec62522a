package dev.reft.cli.services;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;

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
   * Builds ({@code mvn -DskipTests package}) the given modules if any jar is missing or older than a source
   * file of the libraries it is built from. Prints one line when it builds.
   */
  public static void ensureBuilt(Path root, List<String> modules) {
    List<String> stale = modules.stream().filter(m -> isStale(root, m)).toList();
    if (stale.isEmpty()) {
      return;
    }
    Path buildLog = root.resolve("var/build-services.log");
    System.out.println("reft: building " + String.join(", ", stale) + " (log: " + buildLog + ") ...");
    try {
      Files.createDirectories(buildLog.getParent());
      Process mvn = new ProcessBuilder("mvn", "-B", "-q", "-DskipTests", "package", "-pl", String.join(",", stale), "-am")
          .directory(root.toFile())
          .redirectErrorStream(true)
          .redirectOutput(buildLog.toFile())
          .start();
      if (mvn.waitFor() != 0) {
        throw new IllegalStateException("building " + stale + " failed; see " + buildLog);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run mvn (is Maven installed?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while building", e);
    }
  }

  private static boolean isStale(Path root, String module) {
    Path jar = jar(root, module);
    if (!Files.exists(jar)) {
      return true;
    }
    try {
      FileTime built = Files.getLastModifiedTime(jar);
      for (String dir : List.of(module, "schemas", "tasks", "policy")) {
        Path src = root.resolve(dir).resolve("src/main");
        if (!Files.isDirectory(src)) {
          continue;
        }
        try (Stream<Path> files = Files.walk(src)) {
          if (files.filter(Files::isRegularFile).anyMatch(f -> newer(f, built))) {
            return true;
          }
        }
      }
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static boolean newer(Path file, FileTime than) {
    try {
      return Files.getLastModifiedTime(file).compareTo(than) > 0;
    } catch (IOException e) {
      return true;
    }
  }
}
