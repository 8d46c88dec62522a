package dev.reft.cli.data;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code reft data synth|score|stats}: the built-in synthetic task and the math data files. */
@Command(
    name = "data",
    mixinStandardHelpOptions = true,
    description = "Generate the synthetic task, score annotations with the ReFT reward, count items.",
    subcommands = {SynthCommand.class, ScoreCommand.class, StatsCommand.class})
public final class DataCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
