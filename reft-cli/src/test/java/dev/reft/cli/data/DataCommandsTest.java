package dev.reft.cli.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.cli.ReftCommand;
import dev.reft.tasks.Datasets;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code reft data synth|score|stats} run in-process, with their printed output checked. */
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

  private static Path shared(String relative) {
    String root = System.getProperty("reft.shared.data");
    if (root == null) {
      throw new IllegalStateException("system property reft.shared.data is not set (run with Maven)");
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
    assertThat(Datasets.read(dir.resolve("synthetic_train_nl.json"))).hasSize(60);
    assertThat(Files.readString(dir.resolve("synthetic_hard_python_sdp.json"))).contains("def solution():");

    Run nl = reft("data", "score", dir.resolve("synthetic_train_nl.json").toString());
    assertThat(nl.last()).isEqualTo(
        "items=60 correct=60 wrong=0 no_answer=0 exec_error=0 timeout=0 violation=0 accuracy=1.0000");
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
    Run run = reft("data", "score", shared("reft/svamp_nl.json").toString(), "--show", "5");
    assertThat(run.exit()).isZero();
    assertThat(run.lines()).anyMatch(l -> l.startsWith("svamp_2000 WRONG gold=69.4 extracted=69.32"));
    assertThat(run.last()).isEqualTo(
        "items=3076 correct=3074 wrong=2 no_answer=0 exec_error=0 timeout=0 violation=0 accuracy=0.9993");
  }

  @Test
  void scoreRefusesFilesWithoutAnnotations() {
    assertThat(reft("data", "score", shared("reft/svamp_test_set.json").toString()).exit()).isEqualTo(2);
  }
}
