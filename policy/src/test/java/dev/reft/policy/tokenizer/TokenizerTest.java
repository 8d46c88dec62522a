package dev.reft.policy.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corpus-built tokenizer on real data: SVAMP P-CoT programs and N-CoT explanations from the ReFT
 * authors, GSM8K questions. Built from one part, checked on held-out text.
 */
class TokenizerTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static List<String> training = new ArrayList<>();
  static List<String> heldOutPrograms = new ArrayList<>();
  static List<String> gsm8kQuestions = new ArrayList<>();
  static PolicyTokenizer tokenizer;

  @BeforeAll
  static void build() throws IOException {
    Path data = Paths.get(System.getProperty("reft.data.dir", "../data"));
    JsonNode programs = JSON.readTree(data.resolve("reft/svamp_python_sdp.json").toFile());
    for (int i = 0; i < programs.size(); i++) {
      String program = programs.get(i).get("answer_cot").asText();
      (i < 2000 ? training : heldOutPrograms).add(program);
    }
    JsonNode nl = JSON.readTree(data.resolve("reft/svamp_nl.json").toFile());
    for (int i = 0; i < 2000; i++) {
      training.add(nl.get(i).get("question").asText() + "\n" + nl.get(i).get("answer_cot").asText());
    }
    for (JsonNode q : JSON.readTree(data.resolve("reft/gsm8k_test_set.json").toFile())) {
      gsm8kQuestions.add(q.get("question").asText());
    }
    tokenizer = TokenizerBuilder.builder().build(training);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  @Test
  void heldOutProgramsDecodeExactlyIncludingIndentation() {
    int chars = 0;
    int tokens = 0;
    for (String program : heldOutPrograms) {
      int[] ids = tokenizer.encode(program);
      assertThat(tokenizer.decode(ids)).isEqualTo(program);
      chars += program.length();
      tokens += ids.length;
    }
    // Word-level pieces keep sequences several times shorter than characters.
    assertThat((double) chars / tokens).isGreaterThan(3.0);
  }

  @Test
  void unseenTextRoundTripsWheneverItsCharactersAreKnown() {
    Set<Integer> known = new HashSet<>();
    for (String t : training) {
      t.codePoints().forEach(known::add);
    }
    int lossless = 0;
    for (String question : gsm8kQuestions) {
      boolean allKnown = question.codePoints().allMatch(c -> known.contains(c) || (c >= 0x20 && c < 0x7F));
      assertThat(tokenizer.roundTrips(question)).as(question).isEqualTo(allKnown);
      lossless += allKnown ? 1 : 0;
    }
    assertThat(lossless).isGreaterThan(gsm8kQuestions.size() * 9 / 10);
    assertThat(tokenizer.roundTrips("Zyxwvut qqq the Quokka, 12.5 * 3")).isTrue(); // never-seen words: characters
  }

  @Test
  void numbersAreSingleDigitsAndWordsCarryTheirLeadingSpace() {
    assertThat(tokenizer.pieces("he has 120 apples")).containsExactly("he", " has", " ", "1", "2", "0", " apples");
    assertThat(tokenizer.pieces("    return result\n")).contains(" return", " result");
    String indented = "def solution():\n    x = 3\n\n    return x";
    assertThat(tokenizer.decode(tokenizer.encode(indented))).isEqualTo(indented);
    assertThat(tokenizer.pieces("\n    x")).containsExactly("\n   ", " x");
  }

  @Test
  void specialTokensHaveFixedIdsAreNeverAddedAndAreSkippedWhenDecoding() {
    assertThat(List.of(tokenizer.pad(), tokenizer.bos(), tokenizer.eos(), tokenizer.unk())).containsExactly(0, 1, 2, 3);
    int[] ids = tokenizer.encode("x = 7");
    assertThat(ids).doesNotContain(0, 1, 2);
    int[] framed = new int[ids.length + 3];
    framed[0] = tokenizer.bos();
    System.arraycopy(ids, 0, framed, 1, ids.length);
    framed[ids.length + 1] = tokenizer.eos();
    framed[ids.length + 2] = tokenizer.pad();
    assertThat(tokenizer.decode(framed)).isEqualTo("x = 7");
    assertThat(tokenizer.encode("")).isEmpty();
    assertThatThrownBy(() -> tokenizer.decode(new int[] {tokenizer.vocabSize()})).hasMessageContaining("outside the vocabulary");
  }

  @Test
  void longTextsAreNotTruncated() {
    String longText = " apples".repeat(3000);
    assertThat(tokenizer.encode(longText)).hasSize(3000);
  }

  @Test
  void buildIsDeterministicBoundedAndSurvivesSavingAndLoading(@TempDir Path dir) throws IOException {
    String json = TokenizerBuilder.builder().buildJson(training);
    assertThat(TokenizerBuilder.builder().buildJson(training)).isEqualTo(json);
    try (PolicyTokenizer small = TokenizerBuilder.builder().optMaxVocabSize(300).build(training)) {
      assertThat(small.vocabSize()).isEqualTo(300);
      assertThat(small.decode(small.encode(heldOutPrograms.get(0)))).isEqualTo(heldOutPrograms.get(0));
      Path file = dir.resolve("tokenizer.json");
      small.save(file);
      try (PolicyTokenizer loaded = PolicyTokenizer.load(file)) {
        assertThat(loaded.encode(heldOutPrograms.get(1))).containsExactly(small.encode(heldOutPrograms.get(1)));
        assertThat(loaded.vocabSize()).isEqualTo(300);
      }
    }
    assertThat(Files.exists(dir.resolve("tokenizer.json"))).isTrue();
    assertThat(tokenizer.vocabSize()).isLessThanOrEqualTo(4096);
  }

  @Test
  void findsLlamaStyleSpecialTokensInOtherTokenizers() {
    String json = """
        {"version":"1.0","added_tokens":[
          {"id":0,"content":"<unk>","special":true,"single_word":false,"lstrip":false,"rstrip":false,"normalized":false},
          {"id":1,"content":"<s>","special":true,"single_word":false,"lstrip":false,"rstrip":false,"normalized":false},
          {"id":2,"content":"</s>","special":true,"single_word":false,"lstrip":false,"rstrip":false,"normalized":false}],
         "normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
         "model":{"type":"WordLevel","vocab":{"<unk>":0,"<s>":1,"</s>":2,"hello":3,"world":4},"unk_token":"<unk>"}}
        """;
    try (PolicyTokenizer llama = PolicyTokenizer.fromJson(json)) {
      assertThat(List.of(llama.bos(), llama.eos(), llama.pad(), llama.unk(), llama.vocabSize())).containsExactly(1, 2, 2, 0, 5);
      assertThat(llama.encode("hello world")).containsExactly(3, 4);
    }
    assertThatThrownBy(() -> PolicyTokenizer.fromJson("{\"model\":{\"vocab\":{\"a\":0}}}")).hasMessageContaining("BOS or EOS");
  }
}
