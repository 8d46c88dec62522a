package dev.reft.cli;

import dev.reft.cli.bench.BenchCommand;
import dev.reft.cli.data.DataCommand;
import dev.reft.cli.kafka.KafkaCommand;
import java.util.List;
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
      dev.reft.cli.demo.ChaosCommand.class,
      dev.reft.cli.eval.EvalCommand.class,
      dev.reft.cli.replay.ReplayCommand.class,
      dev.reft.cli.report.ReportCommand.class,
      dev.reft.cli.model.ModelCommand.class,
      dev.reft.cli.model.GenerateCommand.class,
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
    System.exit(commandLine(List.of(args).contains("--verbose")).execute(withoutVerbose(args)));
  }

  /**
   * The command line. A command that fails ends with one line on stderr — {@code reft <command>: <what went
   * wrong>} — and exit code 1; with {@code --verbose} (anywhere among the arguments) also the stack trace.
   */
  static CommandLine commandLine(boolean verbose) {
    CommandLine cli = new CommandLine(new ReftCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler((e, failed, parsed) -> {
      failed.getErr().println(failed.getCommandSpec().qualifiedName() + ": " + oneLine(e)
          + (verbose ? "" : " (--verbose shows the stack trace)"));
      if (verbose) {
        e.printStackTrace(failed.getErr());
      }
      failed.getErr().flush();
      return 1;
    });
    return cli;
  }

  /** The failure's message, or that of its first cause that has one, on one line. */
  static String oneLine(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.nio.file.NoSuchFileException missing) {
        return "no such file: " + missing.getFile();
      }
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return t.getMessage().lines().findFirst().orElse("").strip();
      }
    }
    return e.getClass().getSimpleName();
  }

  private static String[] withoutVerbose(String[] args) {
    return java.util.Arrays.stream(args).filter(a -> !a.equals("--verbose")).toArray(String[]::new);
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
