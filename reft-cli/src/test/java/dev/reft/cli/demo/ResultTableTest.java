package dev.reft.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.schemas.CotStyle;
import dev.reft.schemas.EvalResult;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResultTableTest {

  private static EvalResult eval(String run, String mode, long version, String dataset, double greedy, Double voting,
      long at) {
    return EvalResult.newBuilder().setRunId(run).setPolicyVersion(version).setStep(version).setMode(mode)
        .setDataset(dataset).setStyle(CotStyle.NCOT).setProblems(1000).setGreedyAccuracy(greedy)
        .setVotingK(voting == null ? 0 : 8).setVotingAccuracy(voting).setMeanResponseLength(40)
        .setCreatedAt(Instant.ofEpochMilli(at)).build();
  }

  private final List<EvalResult> evals = List.of(
      eval("t-warmup", "sft", 0, "synthetic-test", 0.30, 0.28, 1),
      eval("t-warmup", "sft", 0, "synthetic-hard", 0.04, null, 2),
      eval("t-reft", "reft", 50, "synthetic-test", 0.33, null, 3),   // a periodic evaluation
      eval("t-reft", "reft", 150, "synthetic-test", 0.36, 0.35, 5),  // the final one
      eval("t-reft", "reft", 150, "synthetic-hard", 0.05, null, 6),
      eval("t-sft", "sft", 0, "synthetic-test", 0.20, null, 7),      // an epoch of the keep-best SFT
      eval("t-sft", "sft", 0, "synthetic-test", 0.41, 0.39, 8));     // its final evaluation

  private final ResultTable table = new ResultTable(8)
      .row("warm-up", "t-warmup", "sft")
      .row("SFT", "t-sft", "sft")
      .row("ReFT", "t-reft", "reft")
      .row("Online-ST", "t-online-st", "online-st");

  @Test
  void eachRowShowsItsRunsFinalEvaluation() {
    String text = table.text(evals);
    assertThat(text).containsPattern("warm-up +v0 +30\\.0% +28\\.0% +- +4\\.0%");
    assertThat(text).containsPattern("SFT +v0 +41\\.0% +39\\.0% +- +-");
    assertThat(text).containsPattern("ReFT +v150 +36\\.0% +35\\.0% +- +5\\.0%");
    assertThat(text).containsPattern("Online-ST +\\(not run\\)");
    assertThat(text).contains("voting@8").contains("cheapest path");
  }

  @Test
  void markdownHasTheSameRows() {
    String md = table.markdown(evals);
    assertThat(md).contains("| ReFT | `t-reft` | v150 | 36.0% | 35.0% | - | 5.0% |");
    assertThat(md).contains("| Online-ST | `t-online-st` | not run | - | - | - | - |");
    assertThat(md.lines()).hasSize(2 + 4);
  }

  @Test
  void seedsAreSummarisedAsMeanAndStandardError() {
    EvalResult seed1 = withPaths(eval("s1", "reft", 150, "synthetic-test", 0.40, 0.38, 1), 0.60);
    EvalResult seed2 = withPaths(eval("s2", "reft", 150, "synthetic-test", 0.44, 0.42, 2), 0.70);
    EvalResult seed3 = withPaths(eval("s3", "reft", 150, "synthetic-test", 0.45, null, 3), 0.65);
    ResultTable seeds = new ResultTable(8).row("ReFT", "reft", List.of("s1", "s2", "s3", "s4"));
    // greedy 40, 44, 45: mean 43, sample sd √((9 + 1 + 4) / 2) = √7 = 2.6458, s.e. 2.6458 / √3 = 1.5275
    // voting 38, 42 (seed 3 has none): mean 40, sd √8, s.e. 2.0; cheapest path 60, 70, 65: mean 65, s.e. 2.8868
    // seed 4 has no result at all: every cell says how many seeds it averages.
    assertThat(seeds.text(List.of(seed1, seed2, seed3)))
        .contains("43.0 ± 1.5 (3)").contains("40.0 ± 2.0 (2)").contains("65.0 ± 2.9 (3)");
    assertThat(ResultTable.MeanAndError.of(List.of(5.0)).standardError()).isZero();
  }

  private static EvalResult withPaths(EvalResult e, double share) {
    e.setCheapestPathShare(share);
    return e;
  }
}
