package dev.reft.cli.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.cli.ReftCommand;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Datasets;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code reft data synth|score|stats|gsm8k-ncot} run in-process, with their printed output checked. */
class DataCommandsTest {

  @TempDir Path dir;

  private record Run(int exit, String out) {
    List<String> lines() {
      return out.lines().toList();
    }

    String last() {
      List<String> l = lines();
      return l.get(l.size() - 1);
    }
  }

  private static Run reft(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream capture = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      System.setOut(capture);
      int exit = new CommandLine(new ReftCommand()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
      return new Run(exit, bytes.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(original);
    }
  }

  /** A file of the repository's data/ directory, which the parent pom passes as reft.data.dir. */
  static Path data(String relative) {
    String root = System.getProperty("reft.data.dir");
    if (root == null) {
      throw new IllegalStateException("system property reft.data.dir is not set: run with Maven (the parent pom "
          + "sets it to the checkout's data/ directory) or pass -Dreft.data.dir=/path/to/checkout/data");
    }
    return Path.of(root, relative);
  }

  @Test
  void synthWritesReadableReftFilesThatScorePerfectly() throws Exception {
    Run synth = reft("data", "synth", "--out", dir.toString(), "--train", "60", "--test", "30", "--hard", "10", "--seed", "7");
    assertThat(synth.exit()).isZero();
    for (String split : List.of("train", "test", "hard")) {
      assertThat(dir.resolve("synthetic_" + split + "_nl.json")).isRegularFile();
      assertThat(dir.resolve("synthetic_" + split + "_python_sdp.json")).isRegularFile();
    }
    // The 60 problems asked for, plus the paths task's single-step facts (one step each).
    var train = Datasets.read(dir.resolve("synthetic_train_nl.json"));
    long facts = train.stream().filter(p -> p.difficulty() == 1).count();
    assertThat(facts).isGreaterThan(400);
    assertThat(train).hasSize(60 + (int) facts);
    assertThat(Files.readString(dir.resolve("synthetic_hard_python_sdp.json"))).contains("def solution():");

    Run nl = reft("data", "score", dir.resolve("synthetic_train_nl.json").toString());
    assertThat(nl.last()).isEqualTo("items=" + train.size() + " correct=" + train.size()
        + " wrong=0 no_answer=0 exec_error=0 timeout=0 violation=0 accuracy=1.0000");
    Run orders = reft("data", "synth", "--task", "orders", "--out", dir.resolve("orders").toString(), "--train", "60",
        "--test", "5", "--hard", "0");
    assertThat(orders.exit()).isZero();
    assertThat(Datasets.read(dir.resolve("orders").resolve("synthetic_train_nl.json"))).hasSize(60);
    assertThat(reft("data", "synth", "--task", "sums", "--out", dir.toString()).exit()).isEqualTo(2);
    Run py = reft("data", "score", dir.resolve("synthetic_hard_python_sdp.json").toString(), "--workers", "1");
    assertThat(py.last()).isEqualTo(
        "items=10 correct=10 wrong=0 no_answer=0 exec_error=0 timeout=0 violation=0 accuracy=1.0000");

    Run stats = reft("data", "stats", dir.resolve("synthetic_test_python_sdp.json").toString());
    assertThat(stats.exit()).isZero();
    assertThat(stats.out()).containsPattern("synthetic\\s+PCOT\\s+30\\s+30");
  }

  @Test
  void styleOnlyPcotWritesOnlyPrograms() {
    assertThat(reft("data", "synth", "--out", dir.toString(), "--train", "5", "--test", "5", "--hard", "0",
        "--style", "pcot").exit()).isZero();
    assertThat(dir.resolve("synthetic_train_python_sdp.json")).isRegularFile();
    assertThat(dir.resolve("synthetic_train_nl.json")).doesNotExist();
  }

  @Test
  void scoreReportsTheTwoJunkSvampAnnotations() {
    Run run = reft("data", "score", data("reft/svamp_nl.json").toString(), "--show", "5");
    assertThat(run.exit()).isZero();
    assertThat(run.lines()).anyMatch(l -> l.startsWith("svamp_2000 WRONG gold=69.4 extracted=69.32"));
    assertThat(run.last()).isEqualTo(
        "items=3076 correct=3074 wrong=2 no_answer=0 exec_error=0 timeout=0 violation=0 accuracy=0.9993");
  }

  @Test
  void gsm8kNcotRebuildsTheShippedFileByteForByteAndKeepsEveryTarget() throws Exception {
    Path out = dir.resolve("gsm8k_nl_from_solutions.json");
    Run run = reft("data", "gsm8k-ncot", "--in", data("gsm8k/train.jsonl").toString(), "--out", out.toString());
    assertThat(run.exit()).isZero();
    assertThat(run.last()).startsWith("wrote " + out + " (7473 problems");
    // data/README.md names this command as the one that made the shipped file.
    assertThat(Files.mismatch(out, data("gsm8k/gsm8k_nl_from_solutions.json"))).isEqualTo(-1L);

    List<Problem> solutions = Datasets.read(data("gsm8k/train.jsonl"));
    List<Problem> ncot = Datasets.read(out);
    assertThat(ncot).hasSize(solutions.size());
    for (int i = 0; i < ncot.size(); i++) {
      Problem p = ncot.get(i);
      Problem source = solutions.get(i);
      assertThat(p.id()).isEqualTo(source.id()).isEqualTo("gsm8k_" + i);
      assertThat(p.style()).isEqualTo(CotStyle.NCOT);
      assertThat(p.question()).isEqualTo(source.question());
      assertThat(p.goldAnswer()).isEqualTo(source.goldAnswer());
      assertThat(p.hasCot()).as(p.id()).isTrue();
      assertThat(p.cot()).as(p.id()).doesNotContain("<<", ">>", "####");
      // The SFT target is the one the GSM8K line itself gives: "Therefore, the answer is: N" appended once.
      assertThat(Prompts.target(p)).as(p.id()).isEqualTo(Prompts.target(source));
    }
    assertThat(Prompts.target(ncot.get(0))).isEqualTo("Natalia sold 48/2 = 24 clips in May.\n"
        + "Natalia sold 48+24 = 72 clips altogether in April and May.\nTherefore, the answer is: 72");
  }

  @Test
  void gsm8kNcotRefusesInputThatIsNotGsm8kJsonl() {
    assertThat(reft("data", "gsm8k-ncot", "--in", data("reft/svamp_nl.json").toString(),
        "--out", dir.resolve("x.json").toString()).exit()).isEqualTo(2);
    assertThat(reft("data", "gsm8k-ncot", "--in", data("gsm8k/test.jsonl").toString(),
        "--out", dir.resolve("x.jsonl").toString()).exit()).isEqualTo(2);
    assertThat(dir.resolve("x.json")).doesNotExist();
  }

  @Test
  void scoreRefusesFilesWithoutAnnotations() {
    assertThat(reft("data", "score", data("reft/svamp_test_set.json").toString()).exit()).isEqualTo(2);
  }
}
