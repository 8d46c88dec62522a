package dev.reft.cli.model;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code reft model import|export}: Hugging Face model directories in and out of project checkpoints. */
@Command(
    name = "model",
    mixinStandardHelpOptions = true,
    description = "Import a Hugging Face model (Llama, Qwen2, Mistral) as a checkpoint, or export a checkpoint as one.",
    subcommands = {ModelImportCommand.class, ModelExportCommand.class})
public final class ModelCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
