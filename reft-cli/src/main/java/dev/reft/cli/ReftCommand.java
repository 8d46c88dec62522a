package dev.reft.cli;

import dev.reft.cli.bench.BenchCommand;
import dev.reft.cli.data.DataCommand;
import dev.reft.cli.kafka.KafkaCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code reft}: the command line of ReFT on Kafka. Each subcommand is its own class; this one only lists
 * them.
 */
@Command(
    name = "reft",
    mixinStandardHelpOptions = true,
    versionProvider = ReftCommand.Version.class,
    description = "ReFT (reinforced fine-tuning for math reasoning) on Kafka.",
    subcommands = {
      KafkaCommand.class,
      DataCommand.class,
      BenchCommand.class,
      dev.reft.cli.demo.DemoCommand.class,
      dev.reft.cli.demo.PaperTableCommand.class,
      dev.reft.cli.eval.EvalCommand.class,
      dev.reft.cli.replay.ReplayCommand.class,
      dev.reft.cli.report.ReportCommand.class,
      CommandLine.HelpCommand.class
    })
public final class ReftCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
    int exit = new CommandLine(new ReftCommand()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    System.exit(exit);
  }

  /** The version from the jar manifest, or "dev" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = ReftCommand.class.getPackage().getImplementationVersion();
      return new String[] {"reft " + (v == null ? "dev" : v)};
    }
  }
}
