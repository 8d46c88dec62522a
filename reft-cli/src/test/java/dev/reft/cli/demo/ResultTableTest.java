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
    assertThat(text).containsPattern("warm-up +v0 +30\\.0% +28\\.0% +4\\.0%");
    assertThat(text).containsPattern("SFT +v0 +41\\.0% +39\\.0% +-");
    assertThat(text).containsPattern("ReFT +v150 +36\\.0% +35\\.0% +5\\.0%");
    assertThat(text).containsPattern("Online-ST +\\(not run\\)");
    assertThat(text).contains("voting@8");
  }

  @Test
  void markdownHasTheSameRows() {
    String md = table.markdown(evals);
    assertThat(md).contains("| ReFT | `t-reft` | v150 | 36.0% | 35.0% | 5.0% |");
    assertThat(md).contains("| Online-ST | `t-online-st` | not run | - | - | - |");
    assertThat(md.lines()).hasSize(2 + 4);
  }
}
