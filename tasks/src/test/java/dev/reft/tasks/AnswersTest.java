package dev.reft.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.CotStyle;
import dev.reft.schemas.Outcome;
import java.math.BigDecimal;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class AnswersTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', nullValues = "NONE", value = {
      "Therefore, the answer is: 72|72",
      "Therefore, the answer is <16>.|16",
      "The answer is $1,200.|1200",
      "the Answer Is: -3|-3",
      "the answer is -$5|-5",
      "so the answer is 0.5 liters|0.5",
      "the answer is .25|0.25",
      "the answer is 3/4|3/4",
      "Therefore, the answer is <17.6%>.|17.6",
      "The answer is 5. Wait, the answer is 7.|7",
      "#### 1,234|1234",
      "the answer is 5\\n#### 6|6",
      "#### 6\\nTherefore, the answer is: 8|8",
      "The answer is five.|NONE",
      "no marker at all 42|NONE",
      "the answer is 5 and then the answer is unclear|NONE",
      "answer  is\\n12|12",
  })
  void extractsTheNumberAfterTheLastMarker(String text, String expected) {
    assertThat(Answers.extractNumber(text.replace("\\n", "\n")).orElse(null)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', nullValues = "NONE", value = {
      "Therefore, the answer is: c|c",
      "The answer is (B).|b",
      "the answer is e)|e",
      "the answer is f|NONE",
      "the answer is about 3|NONE",
      "The answer is: a|a",
  })
  void extractsOptionLetters(String text, String expected) {
    assertThat(Answers.extractLetter(text).orElse(null)).isEqualTo(expected);
  }

  @Test
  void rewardRule() {
    Grade correct = Grader.textOnly().grade(CotStyle.NCOT, "q", "... Therefore, the answer is: 203", "203.0");
    assertThat(correct.outcome()).isEqualTo(Outcome.CORRECT);
    assertThat(correct.reward()).isEqualTo(1.0f);
    assertThat(correct.extractedAnswer()).isEqualTo("203");

    Grade close = Grader.textOnly().grade(CotStyle.NCOT, "q", "the answer is 69.405", "69.4");
    assertThat(close.outcome()).isEqualTo(Outcome.CORRECT);
    Grade justOutside = Grader.textOnly().grade(CotStyle.NCOT, "q", "the answer is 69.42", "69.4");
    assertThat(justOutside.outcome()).isEqualTo(Outcome.WRONG);
    assertThat(justOutside.reward()).isEqualTo(0.1f);
    assertThat(justOutside.extractedAnswer()).isEqualTo("69.42");

    Grade none = Grader.textOnly().grade(CotStyle.NCOT, "q", "I do not know", "5");
    assertThat(none.outcome()).isEqualTo(Outcome.NO_ANSWER);
    assertThat(none.reward()).isZero();
    assertThat(none.extractedAnswer()).isNull();

    assertThat(Grader.textOnly().grade(CotStyle.MCQ, "q", "Therefore, the answer is: C", "c").outcome())
        .isEqualTo(Outcome.CORRECT);
    assertThat(Grader.textOnly().grade(CotStyle.MCQ, "q", "Therefore, the answer is: d", "c").reward()).isEqualTo(0.1f);
    assertThat(Grader.textOnly().grade(CotStyle.MCQ, "q", "no idea", "c").reward()).isZero();
  }

  @Test
  void bigNumbersCompareExactly() {
    assertThat(Answers.numbersMatch(new BigDecimal("123456789012345678"), new BigDecimal("123456789012345679"))).isFalse();
    assertThat(Answers.parseNumber("1e+20")).contains(new BigDecimal("1e+20"));
    assertThat(Answers.parseNumber("inf")).isEmpty();
    assertThat(Answers.parseNumber("nan")).isEmpty();
    assertThat(Answers.parseNumber("1/0")).isEmpty();
  }

  @Test
  void pcotWithoutASandboxIsAnErrorNotAZeroReward() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Grader.textOnly().grade(CotStyle.PCOT, "q", "    return 1", "1"))
        .isInstanceOf(dev.reft.tasks.sandbox.SandboxUnavailableException.class);
  }

  @Test
  void goldAnswersMustBeNumbers() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Grader.textOnly().grade(CotStyle.NCOT, "q", "the answer is 1", "one"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'one'");
  }

  @ParameterizedTest
  @CsvSource({"203.0,203", "17.60,17.6", "'1,000',1000", "-3,-3", "0.50,0.5", "c,c", "1e2,100"})
  void formatsAnswersPlainly(String in, String out) {
    assertThat(Answers.format(in)).isEqualTo(out);
  }
}
