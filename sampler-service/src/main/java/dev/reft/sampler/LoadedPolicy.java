package dev.reft.sampler;

import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.schemas.CheckpointPublished;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/** A verified, loaded policy version: model, tokenizer and sampler. Closed when replaced. */
public record LoadedPolicy(long version, String identity, PolicyModel model, PolicyTokenizer tokenizer, Sampler sampler)
    implements AutoCloseable {

  /**
   * Verifies the checkpoint an event names (the SHA-256 of its manifest must equal the event's, and every
   * file must match the manifest) and loads it.
   *
   * @param root where relative URIs are resolved, if configured
   * @throws IOException when the checkpoint is missing, tampered with or unreadable
   */
  public static LoadedPolicy load(CheckpointPublished event, Optional<Path> root) throws IOException {
    Path dir = directoryOf(event.getUri(), root);
    Checkpoint checkpoint = Checkpoint.open(dir, event.getSha256());
    PolicyTokenizer tokenizer = checkpoint.tokenizer();
    PolicyModel model = checkpoint.loadModel();
    model.freeze();
    return new LoadedPolicy(event.getVersion(), checkpoint.identity(), model, tokenizer,
        new Sampler(model, tokenizer.eos(), tokenizer.pad()));
  }

  /** The directory of a checkpoint URI: {@code file:///abs/dir}, an absolute path, or a path under root. */
  public static Path directoryOf(String uri, Optional<Path> root) {
    if (uri.startsWith("file:")) {
      return Path.of(URI.create(uri));
    }
    Path p = Path.of(uri);
    return p.isAbsolute() ? p : root.map(r -> r.resolve(p)).orElse(p.toAbsolutePath());
  }

  @Override
  public void close() {
    model.close();
    tokenizer.close();
  }
}
