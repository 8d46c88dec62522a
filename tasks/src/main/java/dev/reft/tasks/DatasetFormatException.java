package dev.reft.tasks;

import java.nio.file.Path;

/** A data file that cannot be read as the format it claims to be; the message names the file and the place. */
public final class DatasetFormatException extends RuntimeException {

  private final Path file;
  private final String location;

  /**
   * @param file the file being read
   * @param location where in it, e.g. {@code "line 12"} or {@code "item 3 (svamp_3), line 40"}
   * @param reason what is wrong
   */
  public DatasetFormatException(Path file, String location, String reason, Throwable cause) {
    super(file + ": " + location + ": " + reason, cause);
    this.file = file;
    this.location = location;
  }

  /** The file being read. */
  public Path file() {
    return file;
  }

  /** Where in the file the problem is. */
  public String location() {
    return location;
  }
}
