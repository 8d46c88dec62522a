package dev.reft.cli.demo;

import dev.reft.learner.rl.ReftHyperparameters;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.synthetic.SyntheticConfig;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The options {@code reft demo} and {@code reft paper-table} share: what to run, and on which cluster. */
final class RunOptions {

  @Option(names = "--preset", defaultValue = "default", description = "quick or default (default: ${DEFAULT-VALUE}).")
  String preset;

  @Option(names = "--style", defaultValue = "ncot", description = "ncot or pcot (P-CoT runs the sandbox) (default: ${DEFAULT-VALUE}).")
  String style;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the model, the data order and sampling (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--synthetic-seed", defaultValue = "" + SyntheticConfig.DEFAULT_SEED,
      description = "Seed of the synthetic task's generator: other problems, another train/test split (default: ${DEFAULT-VALUE}).")
  long syntheticSeed;

  @Option(names = "--task", defaultValue = "paths",
      description = "Synthetic task: paths (chains of different cost) or orders (the first task) (default: ${DEFAULT-VALUE}).")
  String task;

  @Option(names = "--warmup-epochs", description = "Warm-up SFT epochs instead of the preset's (same learning-rate schedule).")
  Integer warmupEpochs;

  @Option(names = "--updates", description = "PPO updates instead of the preset's.")
  Integer updates;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "A learner setting for every learner run, e.g. --set reft.ppo.value-detach=true (repeatable; a "
          + "key a method sets itself, such as paper-table's kl-coef for ReFT with beta = 0, keeps the method's value).")
  java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();

  @Option(names = "--bootstrap", description = "Use this Kafka cluster instead of starting a local broker.")
  String bootstrap;

  @Option(names = "--sampler-parallelism", paramLabel = "N",
      description = "Generation batches the sampler runs at the same time, one core each (reft.sampler.parallelism). "
          + "Default: the machine's cores in lockstep (max-policy-lag 0), where the learner waits while samplers "
          + "work; 1 when lag is allowed, where the learner trains meanwhile.")
  Integer samplerParallelism;

  /** The client settings of a {@code --bootstrap} cluster that needs them (TLS, SASL). */
  @picocli.CommandLine.Mixin
  dev.reft.cli.kafka.KafkaClientOptions kafka = new dev.reft.cli.kafka.KafkaClientOptions();

  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  /** What a header line says about the seeds: {@code seed 2} or {@code seed 2, synthetic seed 7}. */
  String seeds() {
    return "seed " + seed + (syntheticSeed == SyntheticConfig.DEFAULT_SEED ? "" : ", synthetic seed " + syntheticSeed);
  }

  /** A fresh id for this invocation's runs: {@code <prefix>-<style>-s<seed>-<MMdd-HHmmss>}. */
  String newId(String prefix) {
    return prefix + "-" + style + "-s" + seed + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMdd-HHmmss"));
  }

  /**
   * The preset with the overrides applied. An unknown preset or style, or a bad override, is refused as a
   * usage error: picocli prints the message with the usage and exits 2.
   */
  Preset resolve() {
    try {
      return resolveOrThrow();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command.commandLine(), e.getMessage(), e);
    }
  }

  private Preset resolveOrThrow() {
    if (!style.equals("ncot") && !style.equals("pcot")) {
      throw new IllegalArgumentException("--style must be ncot or pcot, not '" + style + "'");
    }
    try {
      SyntheticConfig.Task.parse(task);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--task must be paths or orders, not '" + task + "'");
    }
    Preset p = Preset.of(preset);
    if (warmupEpochs != null && (warmupEpochs < 1 || warmupEpochs > p.scheduleEpochs())) {
      throw new IllegalArgumentException("--warmup-epochs must be 1.." + p.scheduleEpochs() + " (the schedule), not "
          + warmupEpochs);
    }
    if (updates != null && updates < 1) {
      throw new IllegalArgumentException("--updates must be at least 1, not " + updates);
    }
    if (samplerParallelism != null && samplerParallelism < 1) {
      throw new IllegalArgumentException("--sampler-parallelism must be at least 1, not " + samplerParallelism);
    }
    settings.forEach((key, value) -> {
      if (!key.startsWith("reft.")) {
        throw new IllegalArgumentException("--set takes learner settings (reft.*), not '" + key + "'");
      }
    });
    return new Preset(p.name(), p.trainSize(), p.testSize(), p.hardSize(),
        warmupEpochs != null ? warmupEpochs : p.warmupEpochs(), p.scheduleEpochs(),
        updates != null ? updates : p.reftUpdates(), p.bestSftEpochs(), p.votingK(), p.evalEvery());
  }

  /** The sampler's parallelism for runs at this policy-lag bound: {@code --sampler-parallelism}, or the default. */
  int samplerParallelism(int maxPolicyLag) {
    if (samplerParallelism != null) {
      return samplerParallelism;
    }
    return maxPolicyLag == 0 ? Runtime.getRuntime().availableProcessors() : 1;
  }

  /** As {@link #samplerParallelism(int)} at the lag bound of {@link #ppo()}. */
  int samplerParallelism() {
    return samplerParallelism(ppo().maxPolicyLag());
  }

  /**
   * The ReFT hyperparameters of the style with the {@code --set reft.ppo.*} overrides, as the learners will read
   * them; a bad value is a usage error naming its key.
   */
  ReftHyperparameters ppo() {
    try {
      return ReftHyperparameters.from(CotStyle.valueOf(style.toUpperCase(Locale.ROOT)),
          key -> Optional.ofNullable(settings.get(key)));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command.commandLine(), "--set " + e.getMessage(), e);
    }
  }
}
