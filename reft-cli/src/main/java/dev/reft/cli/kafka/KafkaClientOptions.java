package dev.reft.cli.kafka;

import dev.reft.cli.Settings;
import dev.reft.schemas.KafkaClientConfig;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * How the CLI's Kafka clients reach a cluster, secured or not: {@code --bootstrap} plus every Kafka client
 * setting the services accept, from
 *
 * <ol>
 *   <li>{@code kafka.*} Java system properties ({@code REFT_JAVA_OPTS="-Dkafka.security.protocol=SASL_SSL"}) and
 *       {@code KAFKA_*} environment variables ({@code KAFKA_SASL_JAAS_CONFIG}) — the services' own convention;
 *   <li>{@code --kafka-config FILE}: a properties file of client settings, with or without the {@code kafka.}
 *       prefix (the file Kafka's own tools take as {@code --command-config} works as it is), which wins over 1.
 * </ol>
 *
 * {@code --bootstrap} wins over both for {@code bootstrap.servers}. Services the CLI starts as processes receive
 * the same settings as {@code KAFKA_*} environment variables.
 */
public final class KafkaClientOptions {

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka client properties for a secured cluster (security.protocol, sasl.mechanism, "
          + "sasl.jaas.config, ssl.truststore.location, ...; with or without the kafka. prefix). "
          + "kafka.* system properties and KAFKA_* environment variables are read too.")
  Path file;

  /** The client properties for a cluster at {@code bootstrap} (null: whatever the configuration says). */
  public Map<String, Object> client(String bootstrap) {
    Map<String, Object> out = new HashMap<>(fromEnvironment());
    if (file != null) {
      out.putAll(read(file));
    }
    if (bootstrap != null) {
      out.put("bootstrap.servers", bootstrap);
    }
    return out;
  }

  /** The settings from {@code kafka.*} system properties and {@code KAFKA_*} environment variables. */
  static Map<String, Object> fromEnvironment() {
    List<String> names = new ArrayList<>(System.getProperties().stringPropertyNames());
    names.addAll(System.getenv().keySet());
    return KafkaClientConfig.from(names, key -> {
      Optional<String> v = Settings.lookup(key);
      return v.isPresent() ? v : Optional.ofNullable(System.getenv(key));
    });
  }

  /** A properties file of client settings, keys with or without {@code kafka.}. */
  static Map<String, Object> read(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file)) {
      p.load(r);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the Kafka client properties " + file + ": " + e.getMessage(), e);
    }
    Map<String, Object> out = new HashMap<>();
    for (String name : p.stringPropertyNames()) {
      String key = name.startsWith(KafkaClientConfig.PREFIX) ? name.substring(KafkaClientConfig.PREFIX.length()) : name;
      out.put(key, p.getProperty(name).trim());
    }
    return out;
  }

  /**
   * The client properties as the environment variables a service reads them from: {@code sasl.jaas.config} →
   * {@code KAFKA_SASL_JAAS_CONFIG}.
   */
  public static Map<String, String> asEnvironment(Map<String, Object> client) {
    Map<String, String> env = new HashMap<>();
    client.forEach((k, v) -> env.put("KAFKA_" + k.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'),
        String.valueOf(v)));
    return env;
  }
}
