package dev.reft.learner;

import dev.reft.tasks.synthetic.SyntheticConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * The learner's settings, {@code reft.learner.*} ({@code application.properties}, {@code -D}, or environment
 * variables such as {@code REFT_LEARNER_MODE}). PPO hyperparameters are {@code reft.ppo.*}, see
 * {@link dev.reft.learner.rl.ReftHyperparameters}.
 */
@ConfigMapping(prefix = "reft.learner")
public interface LearnerSettings {

  /**
   * What to run: {@code sft} (warm-up), {@code reft} (PPO), {@code online-st}, {@code offline-st}, or {@code auto}:
   * the warm-up when the run has no version 0 (and no {@code init-checkpoint}), then {@code reft} — what a
   * deployment runs.
   */
  @WithDefault("reft")
  String mode();

  /** The training run: checkpoints live in {@code <checkpoint-dir>/<run-id>}, records carry it. */
  @WithDefault("demo")
  String runId();

  /** Chain-of-thought style: {@code ncot} or {@code pcot}. */
  @WithDefault("ncot")
  String style();

  /** Training problems: {@code synthetic} (built-in task) or a ReFT JSON / GSM8K JSONL file. */
  @WithDefault("synthetic")
  String trainData();

  /** Held-out problems: {@code synthetic} (the task's test split) or a file. */
  @WithDefault("synthetic")
  String testData();

  /** The built-in task's generator. */
  Synthetic synthetic();

  /** The model created for a fresh warm-up. */
  Model model();

  /** PyTorch intra-op threads. */
  @WithDefault("2")
  int threads();

  /** Where checkpoints are written (shared with the samplers). */
  @WithDefault("var/checkpoints")
  String checkpointDir();

  /**
   * A checkpoint a fresh run starts from: it becomes the run's version 0 — the starting policy and, for
   * {@code reft}, the KL reference. Default: the run's own warm-up (written by {@code sft}); for
   * {@code offline-st}, version 0 of the source run. Lets several runs (ReFT, β = 0, Online-ST, Offline-ST)
   * start from one warm-up, as the paper's comparison does.
   */
  Optional<String> initCheckpoint();

  /**
   * A pretrained model the warm-up starts from instead of a fresh tokenizer and model: {@code hf:DIR}, a Hugging
   * Face directory (Llama, Qwen2, Mistral; see {@code reft model import}), read in memory with its own tokenizer
   * and special ids, and a fresh value head seeded by {@code model.seed}. Its tokenizer then encodes the training
   * data, and the warm-up checkpoint (version 0) carries both to every later run and service.
   */
  Optional<String> initModel();

  /** Checkpoints kept per run (version 0 is always kept). */
  @WithDefault("5")
  int keepLast();

  /** Stop the process when the mode's work is done ({@code sft}, {@code offline-st}, and reft after total-updates). */
  @WithDefault("true")
  boolean exitWhenDone();

  /** Seed of everything random in the learner (data order, mini-batches, request seeds). */
  @WithDefault("1234")
  long seed();

  Sft sft();

  Reft reft();

  Eval eval();

  OfflineSt offlineSt();

  /** The built-in task. */
  interface Synthetic {
    /**
     * The generator: {@code paths} (several valid chains of different cost, plus every single-step fact) or
     * {@code orders} (the first task: orders of equal cost).
     */
    @WithDefault("paths")
    String task();

    /**
     * Annotate every training problem with every valid path (one SFT example per path) instead of one chosen at
     * random: the control for supervised fine-tuning on all paths.
     */
    @WithDefault("false")
    boolean allPaths();

    /** Generator seed (fixes the problems, hence the train/test split). */
    @WithDefault("" + SyntheticConfig.DEFAULT_SEED)
    long seed();

    /** Training problems. */
    @WithDefault("2000")
    int trainSize();

    /** Held-out problems (1–3 steps). */
    @WithDefault("1000")
    int testSize();

    /** Held-out 4-step problems, reported as a separate slice. */
    @WithDefault("500")
    int hardSize();
  }

  /** The model of a fresh warm-up. */
  interface Model {
    /** {@code tiny} (2 × 128) or {@code small} (4 × 256). */
    @WithDefault("tiny")
    String preset();

    /** Initialisation seed. */
    @WithDefault("1")
    long seed();
  }

  /** Warm-up supervised fine-tuning. */
  interface Sft {
    /** Epochs to train. */
    @WithDefault("12")
    int epochs();

    /**
     * Epochs the learning-rate schedule spans; the official warm-up trains 2 epochs of a 40-epoch schedule.
     * Empty = {@code epochs}.
     */
    Optional<Integer> scheduleEpochs();

    /** Sequences per step. */
    @WithDefault("32")
    int batchSize();

    /** Peak learning rate. */
    @WithDefault("1e-3")
    double learningRate();

    /** Share of the schedule spent warming the learning rate up. */
    @WithDefault("0.03")
    double warmupRatio();

    /** Keep the epoch with the best held-out accuracy (the "best SFT" baseline) instead of the last. */
    @WithDefault("false")
    boolean keepBest();

    /** Held-out problems evaluated after each epoch (0 = none). */
    @WithDefault("300")
    int evalProblems();

    /** Evaluate the published warm-up policy on the whole held-out split (greedy and voting@K) at the end. */
    @WithDefault("true")
    boolean finalEval();
  }

  /** The rollout loop of {@code reft} and {@code online-st}. */
  interface Reft {
    /** Updates to run before stopping (0 = one pass over the training problems). */
    @WithDefault("0")
    int totalUpdates();

    /** Publish a checkpoint (and commit offsets) every this many updates. */
    @WithDefault("1")
    int publishEvery();

    /** Evaluate every this many versions (0 = only at the end). */
    @WithDefault("10")
    int evalEvery();

    /** A request not fully answered within this time is given up (counted) and its slot freed. */
    @WithDefault("300s")
    Duration requestTimeout();

    /** Evaluate on the whole held-out split (greedy and voting@K) after the last update. */
    @WithDefault("true")
    boolean finalEval();

    /** Online-ST: learning rate of the SFT steps on correct samples. */
    @WithDefault("3e-4")
    double stLearningRate();
  }

  /** Held-out evaluation. */
  interface Eval {
    /** Held-out problems per evaluation (0 = all). */
    @WithDefault("0")
    int problems();

    /** Samples per problem for majority voting (0 = no voting). */
    @WithDefault("8")
    int votingK();

    /**
     * Also run voting@K at every this many versions (0 = only at the final evaluation: voting costs K times
     * a greedy evaluation).
     */
    @WithDefault("0")
    int votingEvery();

    /** Prompts decoded together. */
    @WithDefault("64")
    int batchSize();

    /** Generation budget per answer. */
    @WithDefault("128")
    int maxNewTokens();
  }

  /** Offline self-training: SFT on the correct CoTs of a replayed range of {@code reft.trajectories.rewarded}. */
  interface OfflineSt {
    /** Run whose trajectories to replay (default: this run, whose own samples {@code sample-questions} draws). */
    Optional<String> sourceRun();

    /** Replay from this timestamp (ISO-8601); default: the beginning of the topic. */
    Optional<String> fromTime();

    /** Replay up to this timestamp (ISO-8601); default: the end of the topic when the replay starts. */
    Optional<String> toTime();

    /** Epochs over original data + correct samples. */
    @WithDefault("3")
    int epochs();

    /** Peak learning rate. */
    @WithDefault("3e-4")
    double learningRate();

    /**
     * Sample first: K = {@code reft.ppo.samples-per-question} chains of thought for this many training
     * questions from the starting policy, through the samplers and the reward service, under this run's id
     * (the paper's Offline-ST). 0: only replay trajectories already on the topic.
     */
    @WithDefault("0")
    int sampleQuestions();
  }
}
