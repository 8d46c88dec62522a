package dev.reft.cli.model;

import dev.reft.policy.PolicyModel;
import dev.reft.policy.PolicyRuntime;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.hf.HfImport;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.sampling.SamplingParams;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft generate --model DIR --prompt TEXT}: continues a prompt with a project checkpoint (a directory
 * with {@code manifest.json}) or a Hugging Face model directory ({@code config.json}, imported in memory) and
 * prints the continuation. The prompt is BOS followed by the text's tokens, as everywhere in the project.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Continue a prompt with a checkpoint or a Hugging Face model directory; prints the continuation.")
public final class GenerateCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "A checkpoint (manifest.json) or a Hugging Face directory (config.json).")
  Path model;

  @Option(names = "--prompt", required = true, description = "The text to continue.")
  String prompt;

  @Option(names = "--greedy", description = "Take the most likely token at every step (ignores temperature, top-k, top-p).")
  boolean greedy;

  @Option(names = "--max-new-tokens", defaultValue = "64", description = "Longest continuation in tokens (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k most likely tokens; 0 = all (default: ${DEFAULT-VALUE}).")
  int topK;

  @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
  double topP;

  @Option(names = "--seed", defaultValue = "1", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--threads", defaultValue = "2", description = "PyTorch intra-op threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--device", description = "auto, cpu or gpu (default: reft.policy.device, else auto).")
  String device;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (maxNewTokens < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--max-new-tokens must be at least 1");
    }
    if (!greedy && (!(temperature > 0) || topK < 0 || !(topP > 0 && topP <= 1))) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--temperature must be > 0, --top-k >= 0 and --top-p in (0, 1]");
    }
    PolicyRuntime.configureThreads(threads, 1);
    if (device != null) {
      PolicyRuntime.configureDevice(device);
    }
    SamplingParams params = greedy ? SamplingParams.greedy(maxNewTokens) : new SamplingParams(temperature, topK, topP, maxNewTokens);
    if (Files.isRegularFile(model.resolve(Checkpoint.MANIFEST))) {
      Checkpoint ckpt = Checkpoint.open(model);
      try (PolicyTokenizer tokenizer = ckpt.tokenizer(); PolicyModel policy = ckpt.loadModel()) {
        print(generate(policy, tokenizer, params));
      }
    } else if (HfImport.isHfDirectory(model)) {
      try (HfImport.Imported imported = HfImport.load(model, HfImport.Options.defaults(), note -> { })) {
        print(generate(imported.model(), imported.tokenizer(), params));
      }
    } else {
      throw new IllegalArgumentException(model + " is neither a checkpoint (manifest.json) nor a Hugging Face model directory (config.json)");
    }
    return 0;
  }

  private String generate(PolicyModel policy, PolicyTokenizer tokenizer, SamplingParams params) {
    policy.freeze();
    List<Sample> samples = new Sampler(policy, tokenizer.eos(), tokenizer.pad()).generate(List.of(tokenizer.encodePrompt(prompt)), params, seed);
    int[] tokens = samples.get(0).tokens();
    int[] known = java.util.Arrays.stream(tokens).filter(id -> id < tokenizer.vocabSize()).toArray(); // spare embedding rows have no text
    return tokenizer.decode(known);
  }

  private void print(String text) {
    spec.commandLine().getOut().println(text);
    spec.commandLine().getOut().flush();
  }
}
