package dev.reft.cli.bench;

import dev.reft.policy.bench.PolicyBenchmark;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft bench policy}: training and sampling throughput of the DJL policy, one figure per line
 * (see {@link PolicyBenchmark}).
 */
@Command(name = "policy", mixinStandardHelpOptions = true,
    description = {"Measure the policy model: parameters, training tokens/s (forward + backward + AdamW),",
        "KV-cache sampling tokens/s and peak RSS. Run it on a quiet machine."})
public final class PolicyBenchCommand implements Callable<Integer> {

  @Option(names = "--preset", defaultValue = "tiny", description = "Model preset: tiny (2 layers, dim 128) or small (4 layers, dim 256) (default: ${DEFAULT-VALUE}).")
  String preset;

  @Option(names = "--threads", description = "PyTorch intra-op threads for training (default: the number of CPUs).")
  Integer threads;

  @Option(names = "--sample-threads", defaultValue = "1",
      description = "PyTorch intra-op threads for sampling; decoding is many tiny ops, 1 is usually fastest (default: ${DEFAULT-VALUE}).")
  int sampleThreads;

  @Option(names = "--batch", defaultValue = "32", description = "Training batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seq", defaultValue = "128", description = "Training sequence length (default: ${DEFAULT-VALUE}).")
  int seq;

  @Option(names = "--vocab", defaultValue = "1024", description = "Vocabulary size (default: ${DEFAULT-VALUE}).")
  int vocab;

  @Option(names = "--sample-batch", defaultValue = "16", description = "Sequences generated together (default: ${DEFAULT-VALUE}).")
  int sampleBatch;

  @Option(names = "--prompt", defaultValue = "32", description = "Prompt tokens per sequence (default: ${DEFAULT-VALUE}).")
  int prompt;

  @Option(names = "--new-tokens", defaultValue = "64", description = "Tokens generated per sequence (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @Option(names = "--steps", defaultValue = "10", description = "Measured training steps, after 3 warm-up steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--rounds", defaultValue = "5", description = "Measured generation rounds, after 1 warm-up round (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Override
  public Integer call() throws Exception {
    String name = preset.toLowerCase(Locale.ROOT);
    if (!name.equals("tiny") && !name.equals("small")) {
      System.err.println("reft bench policy: --preset must be tiny or small, not " + preset);
      return 2;
    }
    if (sampleThreads < 1 || batch < 1 || seq < 2 || vocab < 2 || sampleBatch < 1 || prompt < 1 || newTokens < 1 || steps < 1 || rounds < 1) {
      System.err.println("reft bench policy: sizes must be positive (seq >= 2, vocab >= 2)");
      return 2;
    }
    int threadCount = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    PolicyBenchmark.run(
        new PolicyBenchmark.Options(name, threadCount, sampleThreads, batch, seq, vocab, sampleBatch, prompt, newTokens, steps, rounds), System.out);
    return 0;
  }
}
