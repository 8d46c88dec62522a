package dev.reft.cli;

import java.util.Locale;
import java.util.Optional;

/**
 * Where the CLI looks up configuration keys such as {@code reft.topics.trajectories-rewarded}: a Java
 * system property of that name, else the environment variable of the same name in upper case with every
 * other character as {@code _} ({@code REFT_TOPICS_TRAJECTORIES_REWARDED}) — the same rule Quarkus
 * applies, so one override reaches the CLI and the services alike.
 */
public final class Settings {

  private Settings() {}

  /** The configured value of a key, if any. */
  public static Optional<String> lookup(String key) {
    String value = System.getProperty(key);
    if (value == null) {
      value = System.getenv(envName(key));
    }
    return Optional.ofNullable(value).filter(v -> !v.isBlank());
  }

  /** {@code reft.topics.x-y} → {@code REFT_TOPICS_X_Y}. */
  public static String envName(String key) {
    return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
  }
}
