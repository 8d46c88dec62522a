package dev.reft.policy.checkpoint;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.PolicyRuntime;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * An immutable, content-addressed policy checkpoint: a directory with
 *
 * <ul>
 *   <li>{@code config.json} — the {@link ModelConfig} as a Hugging Face config of its architecture, with the
 *       tokenizer's BOS / EOS / PAD ids;
 *   <li>{@code tokenizer.json} — the Hugging Face tokenizer;
 *   <li>{@code model.safetensors} — the weights under Llama names plus {@code v_head.weight};
 *   <li>any extra files the learner adds (optimizer state, RNG state, consumed offsets, data position);
 *   <li>{@code manifest.json} — SHA-256 and size of every other file, plus string metadata.
 * </ul>
 *
 * <p>The checkpoint's <b>identity</b> is the SHA-256 of {@code manifest.json}: it covers every file and
 * the metadata, so a sampler that knows the identity (from the {@code reft.checkpoints} topic) can verify
 * the whole directory with {@link #open(Path, String)}.
 *
 * <p>Writing is atomic: everything goes to a temporary sibling directory, is flushed to disk, and the
 * directory is renamed into place; an existing checkpoint is never overwritten. Opening verifies every
 * hash and refuses files the manifest does not list; loading the weights re-hashes the exact bytes it
 * parses, so a file swapped after {@code open} is still caught.
 */
public final class Checkpoint {

  /** The model configuration file. */
  public static final String CONFIG = "config.json";
  /** The tokenizer file. */
  public static final String TOKENIZER = "tokenizer.json";
  /** The weights file. */
  public static final String WEIGHTS = "model.safetensors";
  /** The manifest file; its SHA-256 is the checkpoint's identity. */
  public static final String MANIFEST = "manifest.json";

  private static final Set<String> RESERVED = Set.of(CONFIG, TOKENIZER, WEIGHTS, MANIFEST);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path directory;
  private final String identity;
  private final Manifest manifest;

  private Checkpoint(Path directory, String identity, Manifest manifest) {
    this.directory = directory;
    this.identity = identity;
    this.manifest = manifest;
  }

  /**
   * Starts writing a checkpoint of a model and its tokenizer.
   *
   * @param model the policy (its weights are read when {@link Writer#write} runs)
   * @param tokenizer the tokenizer the model was trained with
   * @return a writer to add extra files and metadata to
   */
  public static Writer writer(PolicyModel model, PolicyTokenizer tokenizer) {
    return new Writer(model, tokenizer);
  }

  /**
   * Opens and verifies a checkpoint.
   *
   * @param directory the checkpoint directory
   * @return the verified checkpoint
   * @throws CheckpointIntegrityException when a file is missing, extra, modified or truncated
   * @throws IOException when the directory cannot be read
   */
  public static Checkpoint open(Path directory) throws IOException {
    return open(directory, null);
  }

  /**
   * Opens and verifies a checkpoint whose identity the caller already knows.
   *
   * @param directory the checkpoint directory
   * @param expectedIdentity the expected SHA-256 of {@code manifest.json} (hex), or null to skip
   * @return the verified checkpoint
   * @throws CheckpointIntegrityException when the identity differs or any file does not match the
   *     manifest
   * @throws IOException when the directory cannot be read
   */
  public static Checkpoint open(Path directory, String expectedIdentity) throws IOException {
    Path dir = directory.toAbsolutePath().normalize();
    byte[] manifestBytes;
    try {
      manifestBytes = Files.readAllBytes(dir.resolve(MANIFEST));
    } catch (NoSuchFileException e) {
      throw new CheckpointIntegrityException("checkpoint " + dir + " has no " + MANIFEST);
    }
    String identity = sha256(manifestBytes);
    if (expectedIdentity != null && !expectedIdentity.equalsIgnoreCase(identity)) {
      throw new CheckpointIntegrityException(
          "checkpoint " + dir + " has identity " + identity + ", expected " + expectedIdentity + " (a different or modified checkpoint)");
    }
    Manifest manifest;
    try {
      manifest = Manifest.parse(manifestBytes);
    } catch (IllegalArgumentException e) {
      throw new CheckpointIntegrityException("checkpoint " + dir + ": " + e.getMessage());
    }
    for (String required : List.of(CONFIG, TOKENIZER, WEIGHTS)) {
      if (!manifest.files().containsKey(required)) {
        throw new CheckpointIntegrityException("checkpoint " + dir + ": the manifest does not list " + required);
      }
    }
    for (Map.Entry<String, Manifest.Entry> e : manifest.files().entrySet()) {
      Path file;
      try {
        file = resolve(dir, e.getKey());
      } catch (IllegalArgumentException bad) {
        throw new CheckpointIntegrityException("checkpoint " + dir + ": the manifest lists an invalid name: " + bad.getMessage());
      }
      if (!Files.isRegularFile(file)) {
        throw new CheckpointIntegrityException("checkpoint " + dir + ": " + e.getKey() + " is listed in the manifest but missing");
      }
      String actual = sha256(file);
      if (!actual.equals(e.getValue().sha256()) || Files.size(file) != e.getValue().size()) {
        throw new CheckpointIntegrityException(
            "checkpoint " + dir + ": " + e.getKey() + " has SHA-256 " + actual + " (" + Files.size(file) + " bytes), the manifest records "
                + e.getValue().sha256() + " (" + e.getValue().size() + " bytes): the file was modified or corrupted");
      }
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (Files.isDirectory(p)) {
          continue;
        }
        String name = relativeName(dir, p);
        if (!name.equals(MANIFEST) && !manifest.files().containsKey(name)) {
          throw new CheckpointIntegrityException("checkpoint " + dir + ": " + name + " is not listed in the manifest");
        }
      }
    }
    return new Checkpoint(dir, identity, manifest);
  }

  /**
   * The identity of a checkpoint directory without verifying its files (cheap; use {@link #open} before
   * trusting the content).
   *
   * @param directory the checkpoint directory
   * @return the SHA-256 of its {@code manifest.json}, hex
   * @throws IOException when the manifest cannot be read
   */
  public static String identityOf(Path directory) throws IOException {
    return sha256(Files.readAllBytes(directory.resolve(MANIFEST)));
  }

  /** @return the checkpoint directory */
  public Path directory() {
    return directory;
  }

  /** @return the SHA-256 of {@code manifest.json} (hex): the checkpoint's identity */
  public String identity() {
    return identity;
  }

  /** @return the metadata recorded at write time */
  public SortedMap<String, String> metadata() {
    return manifest.metadata();
  }

  /** @return the relative names of all files except the manifest */
  public Set<String> files() {
    return manifest.files().keySet();
  }

  /** @return the manifest */
  public Manifest manifest() {
    return manifest;
  }

  /**
   * Reads one file, verifying the bytes returned against the manifest.
   *
   * @param name a name from {@link #files()}, e.g. an extra file {@code optimizer.safetensors}
   * @return the content
   * @throws CheckpointIntegrityException when the content no longer matches
   * @throws IllegalArgumentException when the checkpoint has no such file
   * @throws IOException when the file cannot be read
   */
  public byte[] read(String name) throws IOException {
    Manifest.Entry entry = manifest.files().get(name);
    if (entry == null) {
      throw new IllegalArgumentException("checkpoint " + directory + " has no file " + name + " (files: " + files() + ")");
    }
    byte[] bytes = Files.readAllBytes(resolve(directory, name));
    String actual = sha256(bytes);
    if (!actual.equals(entry.sha256())) {
      throw new CheckpointIntegrityException(
          "checkpoint " + directory + ": " + name + " has SHA-256 " + actual + ", the manifest records " + entry.sha256() + ": the file was modified");
    }
    return bytes;
  }

  /**
   * @return the model configuration
   * @throws IOException when the file cannot be read or was modified
   */
  public ModelConfig config() throws IOException {
    return ModelConfig.fromJson(new String(read(CONFIG), StandardCharsets.UTF_8));
  }

  /**
   * The tokenizer, with the BOS / EOS / PAD ids recorded in {@code config.json} (for an imported model they
   * come from its Hugging Face files, not from the token names; for the project's own checkpoints they are
   * the ones found by name).
   *
   * @return the tokenizer (close it when done)
   * @throws IOException when a file cannot be read or was modified
   */
  public PolicyTokenizer tokenizer() throws IOException {
    JsonNode config = JSON.readTree(read(CONFIG));
    return PolicyTokenizer.fromJson(new String(read(TOKENIZER), StandardCharsets.UTF_8),
        tokenId(config, "bos_token_id"), tokenId(config, "eos_token_id"), tokenId(config, "pad_token_id"));
  }

  private static Integer tokenId(JsonNode config, String key) {
    JsonNode v = config.get(key);
    return v != null && v.canConvertToInt() ? v.intValue() : null;
  }

  /**
   * Loads the model in fp32 on the default device.
   *
   * @return a trainable model with the checkpoint's weights (close it when done)
   * @throws IOException when a file cannot be read or was modified
   */
  public PolicyModel loadModel() throws IOException {
    return loadModel(PolicyRuntime.defaultDevice(), DataType.FLOAT32);
  }

  /**
   * Loads the model.
   *
   * @param device where the parameters go
   * @param dataType their element type
   * @return a trainable model with the checkpoint's weights (close it when done)
   * @throws IOException when a file cannot be read or was modified, or the weights do not fit the
   *     configuration
   */
  public PolicyModel loadModel(Device device, DataType dataType) throws IOException {
    ModelConfig config = config();
    Manifest.Entry entry = manifest.files().get(WEIGHTS);
    MessageDigest digest = newDigest();
    // Streamed: one tensor is read, copied into its parameter and freed before the next.
    try (FileChannel channel = FileChannel.open(resolve(directory, WEIGHTS), StandardOpenOption.READ);
        PolicyModel.Loader loader = PolicyModel.loader(config, device, dataType);
        NDManager scratch = PolicyRuntime.engine().newBaseManager(Device.cpu())) {
      SafeTensors.stream(channel, channel.size(), digest, (tensor, data) -> {
        try (NDManager one = scratch.newSubManager()) {
          loader.put(tensor.name(), data.read(one));
        }
      });
      String actual = HexFormat.of().formatHex(digest.digest());
      if (!actual.equals(entry.sha256())) {
        throw new CheckpointIntegrityException(
            "checkpoint " + directory + ": " + WEIGHTS + " has SHA-256 " + actual + ", the manifest records " + entry.sha256() + ": the file was modified");
      }
      return loader.finish();
    } catch (IllegalArgumentException e) {
      throw new IOException("checkpoint " + directory + ": " + e.getMessage(), e);
    }
  }

  /** Writes a checkpoint; see {@link Checkpoint}. */
  public static final class Writer {
    private final PolicyModel model;
    private final PolicyTokenizer tokenizer;
    private final Map<String, byte[]> extraBytes = new LinkedHashMap<>();
    private final Map<String, Path> extraPaths = new LinkedHashMap<>();
    private final SortedMap<String, String> metadata = new TreeMap<>();

    private Writer(PolicyModel model, PolicyTokenizer tokenizer) {
      // A pretrained model's embedding often has spare rows beyond the tokenizer's ids (Qwen2.5: 151,936 vs 151,665).
      if (tokenizer.vocabSize() > model.config().vocabSize()) {
        throw new IllegalArgumentException("tokenizer vocabulary " + tokenizer.vocabSize() + " exceeds the model vocabulary " + model.config().vocabSize());
      }
      this.model = model;
      this.tokenizer = tokenizer;
    }

    /**
     * Adds a metadata entry to the manifest.
     *
     * @param key any key
     * @param value any value
     * @return this writer
     */
    public Writer metadata(String key, String value) {
      metadata.put(key, value);
      return this;
    }

    /**
     * Adds an extra file with the given content.
     *
     * @param name a relative path with {@code /} separators, not one of the four standard names
     * @param content the bytes
     * @return this writer
     */
    public Writer file(String name, byte[] content) {
      checkExtraName(name);
      extraBytes.put(name, content.clone());
      return this;
    }

    /**
     * Adds an extra file copied from disk when {@link #write} runs.
     *
     * @param name a relative path with {@code /} separators, not one of the four standard names
     * @param source the file to copy
     * @return this writer
     */
    public Writer file(String name, Path source) {
      checkExtraName(name);
      extraPaths.put(name, source);
      return this;
    }

    private void checkExtraName(String name) {
      validateName(name);
      if (RESERVED.contains(name)) {
        throw new IllegalArgumentException(name + " is a standard checkpoint file, not an extra one");
      }
      if (extraBytes.containsKey(name) || extraPaths.containsKey(name)) {
        throw new IllegalArgumentException("extra file " + name + " added twice");
      }
    }

    /**
     * Writes the checkpoint atomically.
     *
     * @param directory the checkpoint directory; must not exist yet (its parent is created)
     * @return the written checkpoint, with its identity
     * @throws FileAlreadyExistsException when the directory exists (checkpoints are immutable)
     * @throws IOException when writing fails (nothing is left behind)
     */
    public Checkpoint write(Path directory) throws IOException {
      Path dir = directory.toAbsolutePath().normalize();
      if (Files.exists(dir)) {
        throw new FileAlreadyExistsException(dir.toString(), null, "checkpoints are immutable; choose a new directory");
      }
      Path parent = dir.getParent();
      Files.createDirectories(parent);
      Path tmp = Files.createTempDirectory(parent, "." + dir.getFileName() + ".tmp-");
      try {
        SortedMap<String, Manifest.Entry> files = new TreeMap<>();
        Map<String, NDArray> weights = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> weights.put(name, p.getArray()));
        Map<String, String> weightMeta = Map.of("format", "pt");
        files.put(CONFIG, writeFile(tmp, CONFIG, model.config().toJson(tokenizer.bos(), tokenizer.eos(), tokenizer.pad()).getBytes(StandardCharsets.UTF_8)));
        files.put(TOKENIZER, writeFile(tmp, TOKENIZER, tokenizer.json().getBytes(StandardCharsets.UTF_8)));
        files.put(WEIGHTS, writeFile(tmp, WEIGHTS, out -> SafeTensors.write(weights, weightMeta, out)));
        for (Map.Entry<String, byte[]> e : extraBytes.entrySet()) {
          files.put(e.getKey(), writeFile(tmp, e.getKey(), e.getValue()));
        }
        for (Map.Entry<String, Path> e : extraPaths.entrySet()) {
          files.put(e.getKey(), copyFile(tmp, e.getKey(), e.getValue()));
        }
        byte[] manifestBytes = new Manifest(files, metadata).toBytes();
        writeFile(tmp, MANIFEST, manifestBytes);
        syncDirectories(tmp);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(parent);
        return new Checkpoint(dir, sha256(manifestBytes), Manifest.parse(manifestBytes));
      } catch (IOException | RuntimeException e) {
        deleteRecursively(tmp);
        throw e;
      }
    }
  }

  private static Manifest.Entry writeFile(Path root, String name, byte[] content) throws IOException {
    return writeFile(root, name, out -> out.write(content));
  }

  /** The content a writer produces, streamed to the file and hashed on the way. */
  private interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  private static Manifest.Entry writeFile(Path root, String name, Content content) throws IOException {
    Path file = resolve(root, name);
    Files.createDirectories(file.getParent());
    MessageDigest digest = newDigest();
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      OutputStream out = new DigestOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 20), digest);
      content.writeTo(out);
      out.flush();
      channel.force(true);
      return new Manifest.Entry(HexFormat.of().formatHex(digest.digest()), channel.size());
    }
  }

  private static Manifest.Entry copyFile(Path root, String name, Path source) throws IOException {
    Path file = resolve(root, name);
    Files.createDirectories(file.getParent());
    MessageDigest digest = newDigest();
    long size;
    try (InputStream in = new DigestInputStream(Files.newInputStream(source), digest);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        OutputStream out = Channels.newOutputStream(channel)) {
      size = in.transferTo(out);
      out.flush();
      channel.force(true);
    }
    return new Manifest.Entry(HexFormat.of().formatHex(digest.digest()), size);
  }

  /** Flushes every directory of the tree so the renamed checkpoint is complete after a crash. */
  private static void syncDirectories(Path root) throws IOException {
    List<Path> dirs = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.filter(Files::isDirectory).forEach(dirs::add);
    }
    for (Path d : dirs) {
      syncDirectory(d);
    }
  }

  private static void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // Some file systems cannot open or sync a directory; the files themselves are already synced.
    }
  }

  private static void deleteRecursively(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a leftover hidden temporary directory does not affect any checkpoint
    }
  }

  private static void validateName(String name) {
    if (name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.endsWith("/")) {
      throw new IllegalArgumentException("checkpoint file names are relative paths with '/' separators: '" + name + "'");
    }
    for (String part : name.split("/")) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        throw new IllegalArgumentException("checkpoint file name must not contain empty, '.' or '..' segments: '" + name + "'");
      }
    }
  }

  private static Path resolve(Path root, String name) {
    validateName(name);
    Path file = root.resolve(name).normalize();
    if (!file.startsWith(root)) {
      throw new IllegalArgumentException("checkpoint file " + name + " escapes the checkpoint directory");
    }
    return file;
  }

  private static String relativeName(Path root, Path file) {
    return root.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
  }

  /**
   * @param bytes any content
   * @return its SHA-256, lower-case hex
   */
  public static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(newDigest().digest(bytes));
  }

  /**
   * @param file a file
   * @return the SHA-256 of its content, lower-case hex
   * @throws IOException when it cannot be read
   */
  public static String sha256(Path file) throws IOException {
    MessageDigest digest = newDigest();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
    }
  }
}
