package dev.reft.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reft.schemas.CotStyle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

  @TempDir Path dir;

  @Test
  void gsm8kLinesBecomeACleanChainOfThoughtAndTheGoldAnswer() {
    try (Stream<Problem> s = Datasets.stream(RepoData.file("gsm8k/train.jsonl"), null)) {
      Problem first = s.findFirst().orElseThrow();
      assertThat(first.id()).isEqualTo("gsm8k_0");
      assertThat(first.dataset()).isEqualTo("gsm8k");
      assertThat(first.style()).isEqualTo(CotStyle.NCOT);
      assertThat(first.goldAnswer()).isEqualTo("72");
      assertThat(first.cot()).isEqualTo("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
          + "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72");
      assertThat(Prompts.target(first)).isEqualTo("Natalia sold 48/2 = 24 clips in May.\n"
          + "Natalia sold 48+24 = 72 clips altogether in April and May.\nTherefore, the answer is: 72");
    }
  }

  @Test
  void reftFilesNameTheirDataSetAndStyle() {
    Problem nl = Datasets.read(RepoData.file("reft/svamp_nl.json")).get(0);
    Problem py = Datasets.read(RepoData.file("reft/svamp_python_sdp.json")).get(0);
    assertThat(nl.dataset()).isEqualTo("svamp");
    assertThat(nl.style()).isEqualTo(CotStyle.NCOT);
    assertThat(py.style()).isEqualTo(CotStyle.PCOT);
    assertThat(py.goldAnswer()).isEqualTo("203.0");
    assertThat(Datasets.datasetOf("mathqa-numeric_12")).isEqualTo("mathqa-numeric");
    assertThat(Datasets.datasetOf("synthetic_train_3")).isEqualTo("synthetic");
  }

  @Test
  void mathqaNaturalLanguageItemsAreMultipleChoice() throws Exception {
    Path file = write("mathqa_nl.json", "[{\"item_id\": \"mathqa_0\", \"question\": \"q\", "
        + "\"answer_cot\": \"Therefore, the answer is: b\", \"answer_value\": \"b\"}]");
    Problem p = Datasets.read(file).get(0);
    assertThat(p.style()).isEqualTo(CotStyle.MCQ);
    assertThat(Grader.textOnly().grade(p.style(), p.question(), Prompts.target(p), p.goldAnswer()).correct()).isTrue();
  }

  @Test
  void streamingReadsOneItemAtATime() throws Exception {
    Path file = write("svamp_x.json", "[{\"item_id\": \"svamp_0\", \"question\": \"q\", \"answer_value\": \"1\"},\n"
        + "  {\"item_id\": \"svamp_1\", \"question\": \"q\", \"answer_value\": BROKEN}]");
    try (Stream<Problem> s = Datasets.stream(file, null)) {
      Iterator<Problem> it = s.iterator();
      assertThat(it.next().id()).isEqualTo("svamp_0");  // the broken second item is not read yet
      assertThatThrownBy(it::next).isInstanceOf(DatasetFormatException.class)
          .hasMessageContaining(file.toString()).hasMessageContaining("item 1").hasMessageContaining("line 2");
    }
  }

  @Test
  void malformedInputNamesFileAndPlace() throws Exception {
    record Bad(String name, String content, String expected) {}
    List<Bad> cases = List.of(
        new Bad("a.jsonl", "{\"question\": \"q\", \"answer\": \"x\\n#### 3\"}\n{\"question\": \"q\"}\n",
            "line 2: missing \"answer\""),
        new Bad("b.jsonl", "{\"question\": \"q\", \"answer\": \"x\"}\n", "line 1: the answer has no '#### <number>' line"),
        new Bad("c.jsonl", "\n\n{\"question\": \"q\", \"answer\": \"#### twelve\"}\n", "line 3: gold answer after '####' is not a number"),
        new Bad("d.jsonl", "not json\n", "line 1: not a JSON object"),
        new Bad("e.json", "{\"item_id\": \"svamp_0\"}", "expected a JSON array"),
        new Bad("f.json", "[{\"item_id\": \"svamp_0\", \"question\": \"q\"}]", "item 0 (svamp_0), line 1: missing \"answer_value\""),
        new Bad("g.json", "[\n{\"item_id\": \"cats_0\", \"question\": \"q\", \"answer_value\": \"1\"}]", "item 0 (cats_0), line 2: unknown data set 'cats'"),
        new Bad("h.json", "[{\"question\": \"q\", \"answer_value\": \"1\"}]", "item 0, line 1: missing \"item_id\""),
        new Bad("i.json", "[{\"item_id\": \"svamp_0\", \"question\": \"q\", \"answer_value\": \"many\"}]", "is not a number: 'many'"),
        new Bad("j.json", "[{\"item_id\": \"svamp_0\", \"question\": \"q\", \"answer_value\": \"1\"}", "item 1, line 1: malformed JSON: Unexpected end-of-input"),
        new Bad("k.json", "[1]", "item 0, line 1: expected a JSON object"),
        new Bad("l.txt", "", "expected a .jsonl (GSM8K) or .json (ReFT) file"));
    for (Bad bad : cases) {
      Path file = write(bad.name(), bad.content());
      assertThatThrownBy(() -> Datasets.read(file)).as(bad.name())
          .isInstanceOf(DatasetFormatException.class)
          .hasMessageStartingWith(file.toString())
          .hasMessageContaining(bad.expected());
    }
  }

  @Test
  void invalidUtf8IsReportedNotSkipped() throws Exception {
    Path file = dir.resolve("bad.jsonl");
    Files.write(file, new byte[] {'{', '"', 'q', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'});
    assertThatThrownBy(() -> Datasets.read(file)).isInstanceOf(DatasetFormatException.class)
        .hasMessageContaining("UTF-8");
  }

  @Test
  void writtenFilesReadBackIdentically() throws Exception {
    List<Problem> problems = List.of(
        new Problem("synthetic_train_0", "synthetic", "Q \"quoted\" é", "5", "a\nTherefore, the answer is: 5", CotStyle.NCOT, 2),
        new Problem("synthetic_train_1", "synthetic", "Q2", "7", null, CotStyle.NCOT, 1));
    Path file = dir.resolve("out/synthetic_train_nl.json");
    Datasets.writeReftJson(file, problems);
    assertThat(Datasets.read(file)).isEqualTo(problems);
    assertThat(Files.readString(file, StandardCharsets.UTF_8)).startsWith("[\n  {\n    \"item_id\": \"synthetic_train_0\",\n");
  }

  private Path write(String name, String content) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return file;
  }
}
