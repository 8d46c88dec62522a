package dev.reft.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reft.schemas.CotStyle;
import org.junit.jupiter.api.Test;

class PromptsTest {

  @Test
  void promptsAreExactlyTheReftFormats() {
    assertThat(Prompts.prompt(CotStyle.NCOT, "How many?")).isEqualTo("Question:\nHow many?\nAnswer reasoning:\n");
    assertThat(Prompts.prompt(CotStyle.MCQ, "How many?")).isEqualTo("Question:\nHow many?\nAnswer reasoning:\n");
    assertThat(Prompts.prompt(CotStyle.PCOT, "How many?"))
        .isEqualTo("Question:\nHow many?\nAnswer reasoning:\ndef solution():\n    \"\"\"How many?\"\"\"\n");
    assertThat(Prompts.program("How many?", "    return 3"))
        .isEqualTo("def solution():\n    \"\"\"How many?\"\"\"\n    return 3");
  }

  @Test
  void ncotTargetAppendsTheAnswerStatementUnlessAlreadyThere() {
    assertThat(Prompts.ncotTarget("2 + 3 = 5.", "5.0")).isEqualTo("2 + 3 = 5.\nTherefore, the answer is: 5");
    assertThat(Prompts.ncotTarget("x.\n\nTherefore, the answer is <203>.\n", "203.0"))
        .isEqualTo("x.\n\nTherefore, the answer is <203>.");
    // A last line stating another answer is not the answer statement of the gold answer.
    assertThat(Prompts.ncotTarget("so the final answer is 15 gallons * 8 = 120 pints", "120"))
        .endsWith("\nTherefore, the answer is: 120");
  }

  @Test
  void gsm8kMarkupIsStrippedOnceAndStrippingAgainChangesNothing() {
    String raw = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nShe sold 48+24 = <<48+24=72>>72.\n#### 72\n";
    String clean = Prompts.stripGsm8kMarkup(raw);
    assertThat(clean).isEqualTo("Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72.");
    assertThat(Prompts.stripGsm8kMarkup(clean)).isEqualTo(clean);
    assertThat(Prompts.ncotTarget(clean, "72")).isEqualTo(Prompts.ncotTarget(raw, "72"));
    // Not GSM8K markup: a "####" inside a line, single angle brackets.
    assertThat(Prompts.stripGsm8kMarkup("a #### b\n<203>")).isEqualTo("a #### b\n<203>");
  }

  @Test
  void pcotTargetIsTheAnnotationWithoutHeaderAndDocstring() {
    String question = "Bob ’ s car gets 10.0 kilometers per gallon .";
    // As in SVAMP: the docstring may differ from the question field in spacing.
    String annotation = "def solution():\n    \"\"\"Bob’s car gets 10.0 kilometers per gallon.\"\"\"\n"
        + "    km = 10.0\n    result = km\n    return result";
    Problem p = new Problem("svamp_1", "svamp", question, "10.0", annotation, CotStyle.PCOT, 0);
    String target = Prompts.target(p);
    assertThat(target).isEqualTo("    km = 10.0\n    result = km\n    return result");
    assertThat(Prompts.program(question, target)).startsWith(Prompts.programHeader(question)).endsWith(target);
    assertThatThrownBy(() -> Prompts.target(new Problem("svamp_2", "svamp", "q", "1", "print(1)", CotStyle.PCOT, 0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("svamp_2");
  }

  @Test
  void questionsThatWouldBreakTheDocstringAreEscapedTheSameWayInPromptAndProgram() {
    String question = "He said \"\"\"hi\"\"\" and \\d \"x\"";
    String header = Prompts.programHeader(question);
    assertThat(header).isEqualTo("def solution():\n    \"\"\"He said \\\"\\\"\\\"hi\\\"\\\"\\\" and \\\\d \"x\\\"\"\"\"\n");
    assertThat(Prompts.prompt(CotStyle.PCOT, question)).endsWith(header);
    assertThat(Prompts.program(question, "    return 1")).startsWith(header);
  }

  @Test
  void problemsWithoutAnnotationHaveNoTarget() {
    assertThatThrownBy(() -> Prompts.target(new Problem("gsm8k_1", "gsm8k", "q", "1", null, CotStyle.NCOT, 0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gsm8k_1");
  }
}
