package dev.reft.cli.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code reft bench ...}: benchmarks, run on purpose (not by the build); each prints its figures. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks: print throughput and latency figures.",
    subcommands = {SandboxBenchCommand.class, PolicyBenchCommand.class, HfShapeBenchCommand.class, RewardBenchCommand.class,
        dev.reft.cli.demo.PipelineBenchCommand.class})
public final class BenchCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
