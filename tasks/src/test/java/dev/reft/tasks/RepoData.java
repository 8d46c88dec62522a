package dev.reft.tasks;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The data files that ship with the repository, under its top-level {@code data/} directory (see
 * {@code data/README.md}). The parent pom passes that directory to every test JVM as the system property
 * {@code reft.data.dir}.
 */
public final class RepoData {

  /** The system property naming the data directory. */
  public static final String PROPERTY = "reft.data.dir";

  private RepoData() {}

  /** The data directory ({@code <checkout>/data}); fails the test with a clear message when it is not there. */
  public static Path dir() {
    String root = System.getProperty(PROPERTY);
    if (root == null || root.isBlank()) {
      throw new IllegalStateException("system property " + PROPERTY + " is not set: run the tests with Maven "
          + "(the parent pom sets it to the checkout's data/ directory) or pass -D" + PROPERTY
          + "=/path/to/checkout/data");
    }
    Path dir = Path.of(root);
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException("data directory missing: " + dir.toAbsolutePath() + " (" + PROPERTY + "="
          + root + "); the data files ship in the repository's top-level data/ directory");
    }
    return dir;
  }

  /** A file under the data directory, e.g. {@code reft/svamp_nl.json}; fails the test when it is not there. */
  public static Path file(String relative) {
    Path file = dir().resolve(relative);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("data file missing: " + file.toAbsolutePath() + " (" + PROPERTY + "="
          + System.getProperty(PROPERTY) + "); data/README.md lists the files the repository's data/ directory "
          + "should hold");
    }
    return file;
  }
}
