package dev.reft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A command that fails says what went wrong in one line on stderr and exits non-zero; stack traces on request. */
class CommandErrorsTest {

  @TempDir Path dir;

  private record Run(int exit, String err) {}

  private static Run reft(boolean verbose, String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine cli = ReftCommand.commandLine(verbose);
    cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    cli.setOut(new PrintWriter(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    int exit = cli.execute(args);
    return new Run(exit, err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aMalformedJsonlLineIsNamedWithItsFileAndLineNumber() throws Exception {
    Path file = dir.resolve("broken.jsonl");
    Files.writeString(file, "{\"question\": \"q\", \"answer\": \"#### 1\"}\n{\"question\": \"q2\", \"answer\": \n");
    Run run = reft(false, "data", "stats", file.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err().lines()).hasSize(1);
    assertThat(run.err()).startsWith("reft data stats: ").contains("broken.jsonl").contains("line 2")
        .contains("--verbose").doesNotContain("\tat ");
  }

  @Test
  void aMissingCheckpointIsOneLine() {
    Run run = reft(false, "eval", "--checkpoint", dir.resolve("nowhere").toString(), "--data", "synthetic");
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err().lines()).hasSize(1);
    assertThat(run.err()).startsWith("reft eval: ").contains("nowhere").doesNotContain("\tat ");
  }

  @Test
  void verboseAddsTheStackTrace() throws Exception {
    Path file = dir.resolve("broken.jsonl");
    Files.writeString(file, "not json\n");
    Run run = reft(true, "data", "stats", file.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("line 1").contains("\tat ");
  }

  @Test
  void aBadOptionIsAUsageError() {
    Run run = reft(false, "data", "synth", "--task", "sums");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("--task").contains("paths or orders");
  }
}
