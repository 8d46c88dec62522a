package dev.reft.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reft.tasks.synthetic.SyntheticConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RunOptionsTest {

  private static RunOptions parse(String... args) {
    DemoCommand demo = new DemoCommand();
    new CommandLine(demo).parseArgs(args);
    return demo.run;
  }

  @Test
  void theDefaultsAreThePresetsValues() {
    Preset p = parse().resolve();
    assertThat(p).isEqualTo(Preset.of("default"));
  }

  @Test
  void overridesReplaceOnlyWarmUpEpochsAndUpdates() {
    Preset p = parse("--preset", "quick", "--warmup-epochs", "9", "--updates", "12").resolve();
    Preset quick = Preset.of("quick");
    assertThat(p.warmupEpochs()).isEqualTo(9);
    assertThat(p.reftUpdates()).isEqualTo(12);
    assertThat(p.scheduleEpochs()).isEqualTo(quick.scheduleEpochs());
    assertThat(p.testSize()).isEqualTo(quick.testSize());
  }

  @Test
  void theSyntheticSeedChoosesTheProblemsTheLearnerGenerates() {
    RunOptions defaults = parse("--seed", "2");
    Map<String, String> learner = DemoCommand.learnerSettings(defaults.resolve(), defaults, "r", Path.of("ck"));
    assertThat(learner).containsEntry("reft.learner.synthetic.seed", Long.toString(SyntheticConfig.DEFAULT_SEED))
        .containsEntry("reft.learner.seed", "2").containsEntry("reft.learner.model.seed", "2");
    assertThat(defaults.seeds()).isEqualTo("seed 2");

    RunOptions other = parse("--seed", "2", "--synthetic-seed", "7");
    assertThat(DemoCommand.learnerSettings(other.resolve(), other, "r", Path.of("ck")))
        .containsEntry("reft.learner.synthetic.seed", "7");
    assertThat(other.seeds()).isEqualTo("seed 2, synthetic seed 7");
  }

  @Test
  void theTaskReachesTheLearner() {
    RunOptions defaults = parse();
    assertThat(DemoCommand.learnerSettings(defaults.resolve(), defaults, "r", Path.of("ck")))
        .containsEntry("reft.learner.synthetic.task", "paths");
    RunOptions orders = parse("--task", "ORDERS");
    assertThat(DemoCommand.learnerSettings(orders.resolve(), orders, "r", Path.of("ck")))
        .containsEntry("reft.learner.synthetic.task", "orders");
  }

  @Test
  void setOptionsReachEveryLearnerRun() {
    RunOptions run = parse("--set", "reft.ppo.value-detach=true", "--set", "reft.ppo.kl-coef=0.1");
    assertThat(DemoCommand.learnerSettings(run.resolve(), run, "r", Path.of("ck")))
        .containsEntry("reft.ppo.value-detach", "true").containsEntry("reft.ppo.kl-coef", "0.1")
        .containsEntry("reft.learner.run-id", "r");
  }

  @Test
  void badValuesAreRefusedWithTheReason() {
    assertThatThrownBy(() -> parse("--set", "quarkus.http.port=1").resolve()).hasMessageContaining("--set takes learner settings");
    assertThatThrownBy(() -> parse("--style", "latex").resolve()).hasMessageContaining("ncot or pcot");
    assertThatThrownBy(() -> parse("--preset", "huge").resolve()).hasMessageContaining("unknown preset 'huge'");
    assertThatThrownBy(() -> parse("--warmup-epochs", "21").resolve()).hasMessageContaining("1..20");
    assertThatThrownBy(() -> parse("--updates", "0").resolve()).hasMessageContaining("at least 1");
    assertThatThrownBy(() -> parse("--task", "sums").resolve()).hasMessageContaining("--task must be paths or orders");
    assertThatThrownBy(() -> parse("--sampler-parallelism", "0").resolve()).hasMessageContaining("at least 1");
    assertThatThrownBy(() -> parse("--set", "reft.ppo.max-policy-lag=two").samplerParallelism())
        .hasMessageContaining("reft.ppo.max-policy-lag: 'two'");
  }

  @Test
  void theSamplerUsesEveryCoreInLockstepAndOneWhenTheLearnerTrainsMeanwhile() {
    int cores = Runtime.getRuntime().availableProcessors();
    assertThat(parse().samplerParallelism()).isEqualTo(cores);
    assertThat(parse("--set", "reft.ppo.max-policy-lag=2").samplerParallelism()).isEqualTo(1);
    assertThat(parse().samplerParallelism(2)).isEqualTo(1);
    assertThat(parse("--sampler-parallelism", "3").samplerParallelism(2)).isEqualTo(3);
    assertThat(parse("--sampler-parallelism", "1").samplerParallelism()).isEqualTo(1);
  }
}
