package dev.reft.policy.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * {@code manifest.json}: the SHA-256 and size of every other file of a checkpoint, and free-form string
 * metadata. Serialised deterministically (sorted keys, fixed layout), so its own SHA-256 — the
 * checkpoint's identity — depends on the content only.
 *
 * <pre>
 * {
 *   "format" : "reft-policy-checkpoint/1",
 *   "files" : { "config.json" : { "sha256" : "…", "size" : 712 }, … },
 *   "metadata" : { "step" : "1200", … }
 * }
 * </pre>
 *
 * @param files relative path (with {@code /} separators) → entry
 * @param metadata free-form strings (step, policy version, consumed offsets, ...)
 */
public record Manifest(SortedMap<String, Entry> files, SortedMap<String, String> metadata) {

  /** The format tag written into every manifest. */
  public static final String FORMAT = "reft-policy-checkpoint/1";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Copies into unmodifiable sorted maps. */
  public Manifest {
    files = Collections.unmodifiableSortedMap(new TreeMap<>(files));
    metadata = Collections.unmodifiableSortedMap(new TreeMap<>(metadata));
  }

  /**
   * One file.
   *
   * @param sha256 lower-case hex SHA-256 of the content
   * @param size length in bytes
   */
  public record Entry(String sha256, long size) {}

  /** @return the manifest as UTF-8 JSON bytes */
  public byte[] toBytes() {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    ObjectNode filesNode = root.putObject("files");
    files.forEach((name, e) -> filesNode.putObject(name).put("sha256", e.sha256()).put("size", e.size()));
    ObjectNode metaNode = root.putObject("metadata");
    metadata.forEach(metaNode::put);
    try {
      return (JSON.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Parses a manifest.
   *
   * @param bytes the file's content
   * @return the manifest
   * @throws IllegalArgumentException when it is not a manifest of this format
   */
  public static Manifest parse(byte[] bytes) {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new IllegalArgumentException("manifest.json is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !FORMAT.equals(root.path("format").asText())) {
      throw new IllegalArgumentException("manifest.json has format '" + (root == null ? null : root.path("format").asText()) + "', expected " + FORMAT);
    }
    SortedMap<String, Entry> files = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : root.path("files").properties()) {
      String sha = e.getValue().path("sha256").asText("");
      if (!sha.matches("[0-9a-f]{64}") || !e.getValue().path("size").canConvertToLong()) {
        throw new IllegalArgumentException("manifest.json: bad entry for '" + e.getKey() + "'");
      }
      files.put(e.getKey(), new Entry(sha, e.getValue().path("size").asLong()));
    }
    SortedMap<String, String> metadata = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : root.path("metadata").properties()) {
      metadata.put(e.getKey(), e.getValue().asText());
    }
    return new Manifest(files, metadata);
  }
}
