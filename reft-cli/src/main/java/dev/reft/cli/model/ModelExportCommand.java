package dev.reft.cli.model;

import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.hf.HfExport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code reft model export CKPT_DIR --out HF_DIR}: a checkpoint as a Hugging Face directory (see {@link HfExport}). */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Export a checkpoint (verified first) as a Hugging Face model directory: config.json of its architecture,",
        "F32 model.safetensors, value_head.safetensors, tokenizer files, generation_config.json."})
public final class ModelExportCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "CKPT_DIR", description = "The checkpoint directory.")
  Path checkpoint;

  @Option(names = "--out", required = true, paramLabel = "HF_DIR", description = "The directory to create (must not exist).")
  Path out;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Checkpoint ckpt = Checkpoint.open(checkpoint);
    HfExport.export(ckpt, out);
    spec.commandLine().getOut().println("exported " + ckpt.config().architecture().hfClass() + " checkpoint " + ckpt.identity() + " to "
        + out.toAbsolutePath().normalize());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
