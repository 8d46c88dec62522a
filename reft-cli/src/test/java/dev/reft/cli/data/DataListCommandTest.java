package dev.reft.cli.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.cli.ReftCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code reft data list} run in-process on the shipped data directory and on small broken copies. */
class DataListCommandTest {

  @TempDir Path dir;

  private record Run(int exit, String out, String err) {
    List<String> lines() {
      return out.lines().toList();
    }

    String row(String file) {
      return lines().stream().filter(l -> l.startsWith("  " + file + " ")).findFirst()
          .orElseThrow(() -> new AssertionError("no row for " + file + " in:\n" + out));
    }
  }

  private static Run reft(String... args) {
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      System.setOut(o);
      System.setErr(e);
      int exit = new CommandLine(new ReftCommand()).execute(args);
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
  }

  @Test
  void everyShippedFileMatchesTheManifest() throws Exception {
    Path data = DataCommandsTest.data("");
    Run run = reft("data", "list", "--dir", data.toString());
    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    assertThat(run.err()).isEmpty();
    DataManifest manifest = DataManifest.read(data.resolve(DataManifest.FILE_NAME));
    assertThat(manifest.entries()).isNotEmpty();
    for (String file : manifest.entries().keySet()) {
      assertThat(run.row(file)).endsWith("  ok");
    }
    assertThat(run.row("README.md")).endsWith("index (not hashed)");
    assertThat(run.row("MANIFEST.tsv")).endsWith("index (not hashed)");
    assertThat(run.row("reft/svamp_python_sdp.json")).containsPattern("svamp\\s+P-CoT\\s+3043\\s+1849934\\s");
    assertThat(run.row("reft/svamp_nl.json")).containsPattern("svamp\\s+N-CoT\\s+3076\\s");
    assertThat(run.row("reft/mathqa_test_set.json")).containsPattern("mathqa\\s+none\\s+1605\\s");
    assertThat(run.row("gsm8k/gsm8k_nl_from_solutions.json")).containsPattern("gsm8k\\s+N-CoT\\s+7473\\s");
    assertThat(run.row("gsm8k/LICENSE")).containsPattern("-\\s+-\\s+-\\s+1062\\s");
    int n = manifest.entries().size();
    assertThat(run.lines().get(run.lines().size() - 1))
        .contains("manifest: " + n + " entries, " + n + " match, 0 do not; 0 unlisted");

    // Without --dir: reft.data.dir (set by the build), else ./data.
    assertThat(reft("data", "list").out()).isEqualTo(run.out());
  }

  @Test
  void theReadmeShowsTheMarkdownTable() throws Exception {
    Path data = DataCommandsTest.data("");
    Run run = reft("data", "list", "--dir", data.toString(), "--markdown");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).startsWith("| file | data set |").contains("| `reft/svamp_nl.json` | svamp | N-CoT | 3076 |");
    assertThat(Files.readString(data.resolve("README.md"), StandardCharsets.UTF_8))
        .as("data/README.md must contain the output of ./reft data list --markdown").contains(run.out());
  }

  @Test
  void changedMissingUnreadableAndUnlistedFilesAreReported() throws Exception {
    Path ok = write("reft/svamp_a.json", "[{\"item_id\": \"svamp_0\", \"question\": \"q\", \"answer_value\": \"1\"}]");
    Path changed = write("reft/svamp_b.json", "[{\"item_id\": \"svamp_1\", \"question\": \"q\", \"answer_value\": \"2\"}]");
    Path broken = write("gsm8k/broken.jsonl", "{\"question\": \"q\", \"answer\": \"#### 3\"}\n");
    Path license = write("reft/LICENSE", "some licence\n");
    String okHash = ListCommand.sha256(ok);
    String changedHash = ListCommand.sha256(changed);
    String brokenHash = ListCommand.sha256(broken);
    String licenseHash = ListCommand.sha256(license);
    write(DataManifest.FILE_NAME, String.join("\n",
        "# a comment",
        "file\titems\tsha256\tlicense\tsource",
        "reft/svamp_a.json\t1\t" + okHash + "\tX\thttps://example.org/a",
        "reft/svamp_b.json\t1\t" + changedHash + "\tX\thttps://example.org/b",
        "reft/svamp_c.json\t5\t" + okHash + "\tX\thttps://example.org/c",
        "reft/LICENSE\t7\t" + licenseHash + "\tX\thttps://example.org/l",
        "gsm8k/broken.jsonl\t1\t" + brokenHash + "\tX\thttps://example.org/g",
        ""));
    Files.writeString(changed, "[{\"item_id\": \"svamp_1\", \"question\": \"q\", \"answer_value\": \"3\"}]");
    Files.writeString(broken, "{\"question\": \"q\", \"answer\": \"no marker\"}\n");
    write("reft/extra.json", "[]");

    Run run = reft("data", "list", "--dir", dir.toString());
    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    assertThat(run.row("reft/svamp_a.json")).containsPattern("svamp\\s+none\\s+1\\s").endsWith("  ok");
    assertThat(run.row("reft/svamp_b.json")).contains("MISMATCH: sha256 differs (manifest " + changedHash.substring(0, 12));
    assertThat(run.row("reft/svamp_c.json")).endsWith("MISSING");
    assertThat(run.row("reft/LICENSE")).endsWith("MISMATCH: items differ (manifest 7)");
    assertThat(run.row("gsm8k/broken.jsonl")).contains("UNREADABLE: ").contains("no '#### <number>' line");
    assertThat(run.row("reft/extra.json")).endsWith("unlisted");
    assertThat(run.lines().get(run.lines().size() - 1))
        .isEqualTo("6 files, " + totalBytes() + " bytes; manifest: 5 entries, 1 match, 4 do not; 1 unlisted");
  }

  @Test
  void aMissingDirectoryOrManifestIsAOneLineError() throws Exception {
    Run missing = reft("data", "list", "--dir", dir.resolve("nope").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.out()).isEmpty();
    assertThat(missing.err().lines().toList()).singleElement().asString()
        .isEqualTo("reft data list: no data directory at " + dir.resolve("nope").toAbsolutePath()
            + " (run ./reft from the repository root, or pass --dir)");

    Run noManifest = reft("data", "list", "--dir", dir.toString());
    assertThat(noManifest.exit()).isEqualTo(2);
    assertThat(noManifest.err().lines().toList()).singleElement().asString()
        .startsWith("reft data list: no MANIFEST.tsv in ");

    write(DataManifest.FILE_NAME, "file\titems\tsha256\tlicense\tsource\nx.json\tmany\tabc\tX\ty\n");
    Run badManifest = reft("data", "list", "--dir", dir.toString());
    assertThat(badManifest.exit()).isEqualTo(2);
    assertThat(badManifest.err().lines().toList()).singleElement().asString()
        .startsWith("reft data list: ").contains("MANIFEST.tsv line 2: items must be a count or '-': 'many'");
  }

  private Path write(String relative, String content) throws Exception {
    Path file = dir.resolve(relative);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return file;
  }

  private long totalBytes() throws Exception {
    try (var walk = Files.walk(dir)) {
      long sum = 0;
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        sum += Files.size(p);
      }
      return sum;
    }
  }
}
