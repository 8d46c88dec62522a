package dev.reft.learner.store;

import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.train.AdamW;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A run's checkpoints on disk: {@code <root>/<run>/v<version>}, each an immutable, content-addressed
 * directory (weights, tokenizer, config, optimizer state, learner state, manifest with SHA-256s), written
 * atomically. Version 0 — the warm-up policy, the frozen reference — is never pruned.
 */
public final class CheckpointStore {

  /** Optimizer moments, for exact resume. */
  public static final String OPTIMIZER = "optimizer.safetensors";
  /** {@link LearnerState}, for exact resume. */
  public static final String STATE = "learner-state.json";

  private static final System.Logger LOG = System.getLogger(CheckpointStore.class.getName());

  private static final Pattern NAME = Pattern.compile("v(\\d{6,})");

  private final Path runDir;
  private final int keepLast;

  /**
   * @param root checkpoint root shared with the samplers
   * @param runId the run
   * @param keepLast how many of the newest checkpoints to keep (version 0 is always kept)
   */
  public CheckpointStore(Path root, String runId, int keepLast) {
    this.runDir = root.toAbsolutePath().normalize().resolve(runId);
    this.keepLast = Math.max(1, keepLast);
  }

  public Path runDir() {
    return runDir;
  }

  /** The directory of a version. */
  public Path directory(long version) {
    return runDir.resolve(String.format("v%06d", version));
  }

  /** Writes a checkpoint (refusing to overwrite one) and prunes old ones. */
  public Checkpoint write(long version, PolicyModel model, PolicyTokenizer tokenizer, AdamW optimizer,
      LearnerState state) throws IOException {
    Files.createDirectories(runDir);
    Checkpoint.Writer writer = Checkpoint.writer(model, tokenizer)
        .metadata("run_id", state.runId())
        .metadata("version", Long.toString(version))
        .metadata("mode", state.mode())
        .metadata("step", Long.toString(state.step()))
        .file(STATE, state.toJson());
    if (optimizer != null) {
      writer.file(OPTIMIZER, optimizer.saveState());
    }
    Checkpoint written = writer.write(directory(version));
    prune();
    return written;
  }

  /** Versions on disk, oldest first. */
  public List<Long> versions() throws IOException {
    List<Long> out = new ArrayList<>();
    if (!Files.isDirectory(runDir)) {
      return out;
    }
    try (Stream<Path> dirs = Files.list(runDir)) {
      dirs.forEach(d -> {
        Matcher m = NAME.matcher(d.getFileName().toString());
        if (m.matches() && Files.isDirectory(d)) {
          out.add(Long.parseLong(m.group(1)));
        }
      });
    }
    out.sort(Comparator.naturalOrder());
    return out;
  }

  /** The newest checkpoint that verifies; damaged newer ones are reported and skipped. */
  public Optional<Checkpoint> newest() throws IOException {
    List<Long> versions = versions();
    for (int i = versions.size() - 1; i >= 0; i--) {
      try {
        return Optional.of(Checkpoint.open(directory(versions.get(i))));
      } catch (IOException e) {
        LOG.log(System.Logger.Level.ERROR, "checkpoint {0} does not verify, skipping it: {1}",
            directory(versions.get(i)), e.getMessage());
      }
    }
    return Optional.empty();
  }

  /** A given version, verified. */
  public Optional<Checkpoint> open(long version) throws IOException {
    Path dir = directory(version);
    return Files.isDirectory(dir) ? Optional.of(Checkpoint.open(dir)) : Optional.empty();
  }

  private void prune() throws IOException {
    List<Long> versions = versions();
    for (int i = 0; i < versions.size() - keepLast; i++) {
      long v = versions.get(i);
      if (v == 0) {
        continue;
      }
      Path dir = directory(v);
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
