package dev.reft.schemas;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The Kafka client properties of a service, collected from its whole configuration under the {@code kafka.}
 * prefix — the convention of Quarkus' Kafka extension: {@code kafka.bootstrap.servers},
 * {@code kafka.security.protocol}, {@code kafka.sasl.mechanism}, {@code kafka.sasl.jaas.config},
 * {@code kafka.ssl.truststore.location}, ... become {@code bootstrap.servers}, {@code security.protocol}, ...
 * of every producer, consumer and admin client the service builds. Security therefore reaches every client by
 * configuration alone.
 *
 * <p>Environment variables follow the same convention: {@code KAFKA_SASL_JAAS_CONFIG} is
 * {@code kafka.sasl.jaas.config} (lower case, {@code _} → {@code .}; Kafka's client keys have no underscores).
 * When both spellings are present, the lookup decides which wins (MicroProfile Config: the environment
 * variable, as its source has the higher ordinal). Keys under {@code kafka.streams.} ({@code KAFKA_STREAMS_*}
 * variables) belong to Kafka Streams and are left out; Quarkus' own {@code quarkus.kafka.*} keys do not match
 * the prefix.
 *
 * <p>Callers add their client's own settings (group, transactional id, isolation level, ...) on top of this
 * map: those are part of the code's correctness and are not meant to be configured away.
 */
public final class KafkaClientConfig {

  /** The configuration prefix. */
  public static final String PREFIX = "kafka.";

  private static final Pattern ENV_NAME = Pattern.compile("KAFKA_[A-Z0-9_]+");

  private KafkaClientConfig() {}

  /**
   * The client properties under a configuration.
   *
   * @param names every property name the configuration knows (MicroProfile {@code Config.getPropertyNames()},
   *     system property names, a file's keys, environment variable names)
   * @param lookup the value of a name; asked first for the dotted {@code kafka.x.y} form of an environment
   *     variable name, then for the name itself
   * @return {@code bootstrap.servers}, {@code security.protocol}, ... with their values, sorted by key
   */
  public static Map<String, Object> from(Iterable<String> names, Function<String, Optional<String>> lookup) {
    Map<String, Object> out = new TreeMap<>();
    for (String name : names) {
      String key = clientKey(name);
      if (key == null) {
        continue;
      }
      Optional<String> value = lookup.apply(PREFIX + key);
      if (value.isEmpty() && !name.equals(PREFIX + key)) {
        value = lookup.apply(name);
      }
      value.filter(v -> !v.isBlank()).ifPresent(v -> out.put(key, v.trim()));
    }
    return out;
  }

  /** The client properties of a properties file or of system properties ({@code kafka.*} keys). */
  public static Map<String, Object> from(Properties properties) {
    return from(properties.stringPropertyNames(), key -> Optional.ofNullable(properties.getProperty(key)));
  }

  /** The client properties of a map ({@code kafka.*} keys, or environment variable names). */
  public static Map<String, Object> from(Map<String, String> config) {
    return from(config.keySet(), key -> Optional.ofNullable(config.get(key)));
  }

  /**
   * The Kafka client key a configuration name stands for, or null when it is not a client setting:
   * {@code kafka.sasl.mechanism} and {@code KAFKA_SASL_MECHANISM} both give {@code sasl.mechanism}.
   */
  public static String clientKey(String name) {
    String key;
    if (name.startsWith(PREFIX)) {
      key = name.substring(PREFIX.length());
    } else if (ENV_NAME.matcher(name).matches()) {
      key = name.substring(PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
    } else {
      return null;
    }
    if (key.isEmpty() || key.startsWith("streams.")) {
      return null;
    }
    return key;
  }

  /**
   * The properties for display: values of keys that may hold secrets ({@code sasl.jaas.config}, passwords,
   * keys) replaced by {@code ***}.
   */
  public static Map<String, Object> redacted(Map<String, Object> config) {
    Map<String, Object> out = new TreeMap<>();
    config.forEach((k, v) -> out.put(k, isSecret(k) ? "***" : v));
    return out;
  }

  /** Whether a client key may hold a secret. */
  public static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return k.contains("jaas") || k.contains("password") || k.endsWith(".key") || k.contains("secret")
        || k.contains("credentials") || k.endsWith("keystore.key") || k.contains("token");
  }
}
