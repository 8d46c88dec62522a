package dev.reft.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs {@code reft} in-process for tests in other packages, capturing what it prints. */
public final class ReftCommandAccess {

  private ReftCommandAccess() {}

  /** The outcome of one command: exit code, standard output, standard error. */
  public record Run(int exit, String out, String err) {}

  /**
   * @param args the command line after {@code reft}
   * @return exit code and output, as {@code reft} would print them (no stack traces)
   */
  public static Run execute(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine cli = ReftCommand.commandLine(false);
    cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    int exit = cli.execute(args);
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
