package dev.reft.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reft.schemas.CotStyle;
import dev.reft.tasks.SolutionPaths.Choice;
import dev.reft.tasks.SolutionPaths.Path;
import dev.reft.tasks.SolutionPaths.Step;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which path a chain of thought took, on a hand-made problem: "Anna has 24 apples. She buys 9 more apples. She eats
 * 5 apples." — in question order 24 + 9 = 33 leaves the practised range 0..30 (cost 3), the other order does not
 * (cost 2).
 */
class SolutionPathsTest {

  private static final Path DETOUR = new Path(List.of(
      new Step("24 + 9", 33, "total = apples + bought"),
      new Step("33 - 5", 28, "total = total - eaten")), 3, "ncot-detour", "pcot-detour");
  private static final Path IN_RANGE = new Path(List.of(
      new Step("24 - 5", 19, "total = apples - eaten"),
      new Step("19 + 9", 28, "total = total + bought")), 2, "ncot-in-range", "pcot-in-range");
  private static final SolutionPaths PATHS = new SolutionPaths(List.of(DETOUR, IN_RANGE));

  @Test
  void costsDecideTheChoice() {
    assertThat(PATHS.cheapestCost()).isEqualTo(2);
    assertThat(PATHS.hasChoice()).isTrue();
    assertThat(PATHS.cheapest()).containsExactly(IN_RANGE);
    assertThat(new SolutionPaths(List.of(IN_RANGE)).hasChoice()).isFalse();
    assertThat(IN_RANGE.annotation(CotStyle.PCOT)).isEqualTo("pcot-in-range");
    assertThatThrownBy(() -> new SolutionPaths(List.of())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aCorrectChainIsAttributedToItsPath() {
    assertThat(PATHS.classify(CotStyle.NCOT,
        "Anna has 24 - 5 = 19 apples.\nAnna has 19 + 9 = 28 apples.\nTherefore, the answer is: 28"))
        .isEqualTo(Choice.CHEAPEST);
    assertThat(PATHS.classify(CotStyle.NCOT,
        "Anna has 24 + 9 = 33 apples.\nAnna has 33 - 5 = 28 apples.\nTherefore, the answer is: 28"))
        .isEqualTo(Choice.COSTLIER);
  }

  @Test
  void aSlipEndsTheComparisonButTheChosenBranchStillCounts() {
    // 24 + 9 = 32 is wrong; the path taken is still the detour.
    assertThat(PATHS.classify(CotStyle.NCOT,
        "Anna has 24 + 9 = 32 apples.\nAnna has 32 - 5 = 27 apples.\nTherefore, the answer is: 27"))
        .isEqualTo(Choice.COSTLIER);
    // A slip in the second step of the in-range order.
    assertThat(PATHS.classify(CotStyle.NCOT,
        "Anna has 24 - 5 = 19 apples.\nAnna has 19 + 9 = 29 apples.\nTherefore, the answer is: 29"))
        .isEqualTo(Choice.CHEAPEST);
  }

  @Test
  void aResultTooLongForALongIsASlipLikeAnyOther() {
    // A degenerate sample from a collapsed policy wrote this; the evaluation must classify it, not fail.
    String huge = "4" + "0".repeat(80);
    assertThat(PATHS.classify(CotStyle.NCOT, "Anna has 24 - 5 = " + huge + " apples.\nTherefore, the answer is: 1"))
        .isEqualTo(PATHS.classify(CotStyle.NCOT, "Anna has 24 - 5 = 18 apples.\nTherefore, the answer is: 1"))
        .isEqualTo(Choice.CHEAPEST);
  }

  @Test
  void aChainThatFollowsNoPathOrBothIsUnmatched() {
    assertThat(PATHS.classify(CotStyle.NCOT, "Anna has 24 + 5 = 29 apples.\nTherefore, the answer is: 29"))
        .isEqualTo(Choice.UNMATCHED);
    assertThat(PATHS.classify(CotStyle.NCOT, "Therefore, the answer is: 28")).isEqualTo(Choice.UNMATCHED);
    // Right steps, then one too many.
    assertThat(PATHS.classify(CotStyle.NCOT,
        "Anna has 24 - 5 = 19 apples.\nAnna has 19 + 9 = 28 apples.\nAnna has 28 + 1 = 29 apples."))
        .isEqualTo(Choice.UNMATCHED);
    // Two paths that share a first step: a slip there cannot say which was meant.
    Path sharedCheap = new Path(List.of(new Step("3 * 4", 12, "a"), new Step("12 + 5", 17, "b")), 2, "", "");
    Path sharedCostly = new Path(List.of(new Step("3 * 4", 12, "a"), new Step("12 + 25", 37, "c"),
        new Step("37 - 20", 17, "d")), 4, "", "");
    SolutionPaths shared = new SolutionPaths(List.of(sharedCheap, sharedCostly));
    assertThat(shared.classify(CotStyle.NCOT, "Anna has 3 * 4 = 13 apples.")).isEqualTo(Choice.UNMATCHED);
    assertThat(shared.classify(CotStyle.NCOT, "Anna has 3 * 4 = 12 apples.\nAnna has 12 + 5 = 17 apples."))
        .isEqualTo(Choice.CHEAPEST);
  }

  @Test
  void aCancellationIsASentenceWithoutArithmetic() {
    Path cancel = new Path(List.of(new Step(SolutionPaths.CANCEL, 24, "# bought and eaten cancel out")), 0, "", "");
    Path sequential = new Path(List.of(new Step("24 + 9", 33, "total = apples + bought"),
        new Step("33 - 9", 24, "total = total - eaten")), 3, "", "");
    SolutionPaths paths = new SolutionPaths(List.of(sequential, cancel));
    assertThat(paths.classify(CotStyle.NCOT,
        "Anna buys 9 apples and eats 9 apples, so they cancel out.\nTherefore, the answer is: 24"))
        .isEqualTo(Choice.CHEAPEST);
    assertThat(paths.classify(CotStyle.PCOT,
        "    apples = 24\n    bought = 9\n    eaten = 9\n    # bought and eaten cancel out\n    result = apples\n"
            + "    return result")).isEqualTo(Choice.CHEAPEST);
    assertThat(paths.classify(CotStyle.PCOT,
        "    apples = 24\n    bought = 9\n    eaten = 9\n    total = apples + bought\n    total = total - eaten\n"
            + "    result = total\n    return result")).isEqualTo(Choice.COSTLIER);
    assertThat(paths.classify(CotStyle.PCOT, "    result = 24\n    return result")).isEqualTo(Choice.UNMATCHED);
  }
}
