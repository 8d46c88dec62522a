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

/**
 * Bad input at the command line's doors: options, data files, a cluster that is not there. Each gets a clear message
 * and a non-zero exit — a usage error (exit 2, the message and the usage) or one line {@code reft <command>: ...}
 * (exit 1) — and never a hang or a stack trace.
 */
class BadInputDoorsTest {

  @TempDir Path dir;

  private record Run(int exit, String err, long millis) {
    String firstLine() {
      return err.lines().findFirst().orElse("");
    }
  }

  private static Run reft(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine cli = ReftCommand.commandLine(false);
    cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    cli.setOut(new PrintWriter(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    long t0 = System.nanoTime();
    int exit = cli.execute(args);
    return new Run(exit, err.toString(StandardCharsets.UTF_8), (System.nanoTime() - t0) / 1_000_000);
  }

  private static void usageError(Run run, String... says) {
    assertThat(run.exit()).as(run.err()).isEqualTo(2);
    assertThat(run.firstLine()).contains(says);
    assertThat(run.err()).doesNotContain("\tat ");
  }

  private static void oneLineError(Run run, String command, String... says) {
    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.err().lines()).as(run.err()).hasSize(1);
    assertThat(run.err()).startsWith("reft " + command + ": ").contains(says).doesNotContain("\tat ");
  }

  // --- options ---------------------------------------------------------------------------------------------------

  @Test
  void anUnknownStyleTaskOrPresetIsAUsageError() {
    usageError(reft("demo", "--style", "xcot"), "--style must be ncot or pcot, not 'xcot'");
    usageError(reft("chaos", "--style", "xcot"), "--style must be ncot or pcot, not 'xcot'");
    usageError(reft("paper-table", "--task", "sums"), "--task must be paths or orders, not 'sums'");
    usageError(reft("demo", "--preset", "huge"), "unknown preset 'huge'");
    usageError(reft("demo", "--frobnicate"), "Unknown option: '--frobnicate'");
  }

  @Test
  void zeroOrNegativeCountsAreUsageErrors() {
    usageError(reft("demo", "--updates", "0"), "--updates must be at least 1, not 0");
    usageError(reft("demo", "--updates", "-3"), "--updates must be at least 1, not -3");
    usageError(reft("demo", "--warmup-epochs", "0"), "--warmup-epochs must be 1..");
    usageError(reft("chaos", "--kills", "-1"), "--kills must be 0 or more, not -1");
    usageError(reft("chaos", "--poison", "0"), "--poison must be at least 1, not 0");
    usageError(reft("chaos", "--train-size", "3"), "--train-size must be at least 64");
    usageError(reft("bench", "reward", "--count", "0"), "--count must be at least 1, not 0");
    usageError(reft("bench", "reward", "--minutes", "-2"), "--minutes must be at least 1, not -2");
    usageError(reft("bench", "pipeline", "--updates", "1"), "--updates must be at least 2");
    usageError(reft("eval", "--checkpoint", dir.toString(), "--voting", "-1"), "--voting must be 0 or more, not -1");
    usageError(reft("demo", "--updates", "many"), "'many' is not an int");
  }

  @Test
  void aMissingFileIsOneLineNamingIt() {
    oneLineError(reft("data", "stats", dir.resolve("nowhere.json").toString()), "data stats", "nowhere.json");
    oneLineError(reft("eval", "--checkpoint", dir.resolve("no-checkpoint").toString()), "eval", "no-checkpoint");
  }

  // --- data files ------------------------------------------------------------------------------------------------

  @Test
  void malformedJsonIsOneLineNamingTheFile() throws Exception {
    Path file = dir.resolve("broken.json");
    Files.writeString(file, "[{\"question\": \"q\", \"answer_value\": \"1\",");
    oneLineError(reft("data", "stats", file.toString()), "data stats", "broken.json");
  }

  @Test
  void aMalformedJsonlLineGivesTheLineNumber() throws Exception {
    Path file = dir.resolve("three.jsonl");
    Files.writeString(file, "{\"question\": \"a\", \"answer\": \"#### 1\"}\n{\"question\": \"b\", \"answer\": \"#### 2\"}\n"
        + "{\"question\": \"c\", \"answer\": \n");
    oneLineError(reft("data", "stats", file.toString()), "data stats", "three.jsonl", "line 3");
  }

  @Test
  void aFileInTheWrongFormatIsRefusedWithWhatWasExpected() throws Exception {
    Path csv = dir.resolve("problems.csv");
    Files.writeString(csv, "question,answer\nWhat is 1+1?,2\n");
    Run run = reft("data", "stats", csv.toString());
    assertThat(run.exit()).as(run.err()).isIn(1, 2);
    assertThat(run.err()).contains("problems.csv").doesNotContain("\tat ");
    assertThat(run.err().lines()).hasSize(1);

    Path reftJson = dir.resolve("reft.json");
    Files.writeString(reftJson, "[{\"item_id\": \"x_0\", \"question\": \"q\", \"answer_cot\": \"a\", \"answer_value\": \"1\"}]");
    Run wrong = reft("data", "gsm8k-ncot", "--in", reftJson.toString(), "--out", dir.resolve("out.json").toString());
    assertThat(wrong.exit()).as(wrong.err()).isEqualTo(2);
    assertThat(wrong.err()).contains("reft.json").doesNotContain("\tat ");
    assertThat(dir.resolve("out.json")).doesNotExist();

    Path jsonAsJsonl = dir.resolve("array.jsonl");
    Files.writeString(jsonAsJsonl, "[{\"question\": \"q\",\n \"answer\": \"#### 1\"}]\n");
    Run array = reft("data", "stats", jsonAsJsonl.toString());
    assertThat(array.exit()).as(array.err()).isIn(1, 2);
    assertThat(array.err()).contains("array.jsonl", "line 1").doesNotContain("\tat ");

    Path jsonlAsJson = dir.resolve("lines.json");
    Files.writeString(jsonlAsJson, "{\"question\": \"a\", \"answer\": \"#### 1\"}\n{\"question\": \"b\", \"answer\": \"#### 2\"}\n");
    Run lines = reft("data", "stats", jsonlAsJson.toString());
    assertThat(lines.exit()).as(lines.err()).isIn(1, 2);
    assertThat(lines.err()).contains("lines.json").doesNotContain("\tat ");
  }

  // --- a cluster that is not there -------------------------------------------------------------------------------

  @Test
  void anUnreachableBootstrapIsOneLineWithin30Seconds() {
    for (String[] args : new String[][] {
        {"report", "--bootstrap", "localhost:1", "--run", "x", "--out", dir.resolve("r").toString()},
        {"replay", "--bootstrap", "localhost:1", "--topic", "reft.eval", "--into", "copy"},
        {"bench", "pipeline", "--analyze", "x", "--bootstrap", "localhost:1"},
        {"demo", "--bootstrap", "localhost:1", "--dir", dir.resolve("d").toString()}}) {
      Run run = reft(args);
      String command = args[0].equals("bench") ? "bench pipeline" : args[0];
      oneLineError(run, command, "no Kafka cluster answers at localhost:1");
      assertThat(run.millis()).as("%s failed after %d ms", command, run.millis()).isLessThan(30_000);
    }
    Run status = reft("kafka", "status", "--dir", dir.resolve("no-broker").toString());
    assertThat(status.exit()).isEqualTo(3);
  }
}
