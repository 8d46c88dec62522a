package dev.reft.cli.bench;

import dev.reft.policy.bench.HfShapeBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code reft bench hf-shape}: a policy of Qwen2.5-0.5B's shape on the CPU (see {@link HfShapeBenchmark}). */
@Command(name = "hf-shape", mixinStandardHelpOptions = true,
    description = {"Measure a policy of Qwen2.5-0.5B's shape with random weights: init, checkpoint write and load times,",
        "sampling tokens/s, the time of a PPO-like training step, peak RSS. Needs ~10 GB of memory and minutes."})
public final class HfShapeBenchCommand implements Callable<Integer> {

  @Option(names = "--threads", defaultValue = "2", description = "PyTorch intra-op threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--window", defaultValue = "512", description = "The model's maxSeqLen (default: ${DEFAULT-VALUE}).")
  int window;

  @Option(names = "--batch", defaultValue = "2", description = "Training sequences per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seq", defaultValue = "128", description = "Training sequence length (default: ${DEFAULT-VALUE}).")
  int seq;

  @Option(names = "--steps", defaultValue = "2", description = "Training steps; the first allocates AdamW's state (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--sample-batch", defaultValue = "4", description = "Sequences generated together (default: ${DEFAULT-VALUE}).")
  int sampleBatch;

  @Option(names = "--prompt", defaultValue = "32", description = "Prompt tokens per sequence (default: ${DEFAULT-VALUE}).")
  int prompt;

  @Option(names = "--new-tokens", defaultValue = "32", description = "Tokens generated per sequence (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (threads < 1 || batch < 1 || seq < 2 || steps < 1 || sampleBatch < 1 || prompt < 1 || newTokens < 1
        || Math.max(seq, prompt + newTokens) > window) {
      throw new CommandLine.ParameterException(spec.commandLine(), "sizes must be positive (seq >= 2) and seq, prompt + new tokens must fit --window");
    }
    HfShapeBenchmark.run(new HfShapeBenchmark.Options(threads, window, batch, seq, steps, sampleBatch, prompt, newTokens), System.out);
    return 0;
  }
}
