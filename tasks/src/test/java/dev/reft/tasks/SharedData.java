package dev.reft.tasks;

import java.nio.file.Files;
import java.nio.file.Path;

/** The real data files beside the checkout ({@code ../shared/data}), passed by the build as {@code reft.shared.data}. */
public final class SharedData {

  private SharedData() {}

  /** A file under the shared data directory; fails the test with a clear message when it is not there. */
  public static Path file(String relative) {
    String root = System.getProperty("reft.shared.data");
    if (root == null || root.isBlank()) {
      throw new IllegalStateException("system property reft.shared.data is not set: run the tests with Maven "
          + "(the parent pom passes ../shared/data) or pass -Dreft.shared.data=/path/to/shared/data");
    }
    Path file = Path.of(root).resolve(relative);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("shared data file missing: " + file + " (reft.shared.data=" + root + ")");
    }
    return file;
  }
}
