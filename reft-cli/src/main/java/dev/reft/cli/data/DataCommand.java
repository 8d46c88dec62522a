package dev.reft.cli.data;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code reft data list|synth|score|stats|gsm8k-ncot}: the data files that ship in {@code data/}, the built-in
 * synthetic task, and tools for math data files.
 */
@Command(
    name = "data",
    mixinStandardHelpOptions = true,
    description = "List and check the shipped data, generate the synthetic task, score annotations with the ReFT "
        + "reward, count items, build an N-CoT file from GSM8K's solutions.",
    subcommands = {ListCommand.class, SynthCommand.class, ScoreCommand.class, StatsCommand.class,
        Gsm8kNcotCommand.class})
public final class DataCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
