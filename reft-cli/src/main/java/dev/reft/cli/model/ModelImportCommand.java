package dev.reft.cli.model;

import ai.djl.Device;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.hf.HfImport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code reft model import HF_DIR --out CKPT_DIR}: a Hugging Face directory as a project checkpoint (see
 * {@link HfImport}); every service loads the result like any other checkpoint.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = {"Import a Hugging Face model directory (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM;",
        "model.safetensors or sharded; F32, F16 or BF16) as a checkpoint with a fresh value head."})
public final class ModelImportCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "HF_DIR", description = "The Hugging Face model directory (config.json, safetensors, tokenizer.json).")
  Path source;

  @Option(names = "--out", required = true, paramLabel = "CKPT_DIR", description = "The checkpoint directory to create (must not exist).")
  Path out;

  @Option(names = "--max-seq-len", defaultValue = "0",
      description = "Longest prompt + response the model accepts (default: the trained context, at most " + HfImport.DEFAULT_MAX_SEQ_LEN + ").")
  int maxSeqLen;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the value head's initialisation (default: ${DEFAULT-VALUE}).")
  long seed;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (maxSeqLen < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--max-seq-len must be positive (or 0 for the default)");
    }
    PrintWriter stdout = spec.commandLine().getOut();
    HfImport.Options options = new HfImport.Options(maxSeqLen, seed, Device.cpu()); // no computation: the CPU is enough
    Checkpoint ckpt = HfImport.importTo(source, out, options, note -> stdout.println("  " + note));
    ModelConfig c = ckpt.config();
    stdout.printf(Locale.ROOT, "imported %s: %d layers, hidden %d, heads %d/%d, vocab %d, %,d parameters with the value head, window %d%n",
        c.architecture().hfClass(), c.layers(), c.dim(), c.heads(), c.kvHeads(), c.vocabSize(), c.parameterCount(), c.maxSeqLen());
    stdout.println("checkpoint " + ckpt.directory() + " (identity " + ckpt.identity() + ")");
    stdout.flush();
    return 0;
  }
}
