package dev.reft.policy.checkpoint;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a separate JVM by {@link CheckpointTest}: opens a checkpoint by identity, loads it and writes
 * the {@link Probe} result.
 *
 * <p>Arguments: checkpoint directory, expected identity, output file.
 */
public final class CheckpointChildMain {

  private CheckpointChildMain() {}

  public static void main(String[] args) throws Exception {
    Checkpoint checkpoint = Checkpoint.open(Path.of(args[0]), args[1]);
    try (PolicyModel model = checkpoint.loadModel(Device.cpu(), DataType.FLOAT32);
        PolicyTokenizer tokenizer = checkpoint.tokenizer()) {
      Files.writeString(Path.of(args[2]), Probe.run(model, tokenizer), StandardCharsets.UTF_8);
    }
  }
}
