package dev.reft.policy.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.reft.policy.ForwardOutput;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.PolicyRuntime;
import dev.reft.policy.TokenLogProbs;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.sampling.SamplingParams;
import dev.reft.policy.train.AdamW;
import dev.reft.policy.train.GradientClipping;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Throughput of the policy on this machine, printed one figure per line so scripts can grep them:
 *
 * <pre>
 * params: N                  trainable scalars
 * train tokens/s: N          forward + backward + grad clipping + AdamW; batch × seq tokens per step
 * sample tokens/s: N         new tokens per second with the KV cache (prefill included), temperature 1
 * peak RSS MB: N             the process's high-water resident memory
 * </pre>
 *
 * <p>Random weights and random tokens: speed does not depend on them. The sampler's EOS is token 0, which
 * a random model rarely emits; tokens are counted as actually generated. Not a test: run it on purpose,
 * on a quiet machine ({@code reft bench policy}), and compare runs with the same thread count.
 */
public final class PolicyBenchmark {

  /**
   * What to measure.
   *
   * @param preset {@code tiny} or {@code small}
   * @param threads PyTorch intra-op threads while training
   * @param sampleThreads PyTorch intra-op threads while sampling (decoding runs many tiny ops, for which a
   *     second OpenMP thread costs more in wake-ups than it gains: 1 is fastest on this machine)
   * @param batch training batch size B
   * @param seq training sequence length T
   * @param vocab vocabulary size V
   * @param sampleBatch sequences generated together
   * @param promptLength prompt tokens per sequence
   * @param newTokens tokens generated per sequence
   * @param trainSteps measured training steps (after 3 warm-up steps); the median step is reported
   * @param sampleRounds measured generation rounds (after 1 warm-up round); the median round is reported
   */
  public record Options(
      String preset,
      int threads,
      int sampleThreads,
      int batch,
      int seq,
      int vocab,
      int sampleBatch,
      int promptLength,
      int newTokens,
      int trainSteps,
      int sampleRounds) {

    /**
     * The shapes: train batch 32 × seq 128, sample batch 16, prompt 32, 64 new tokens.
     *
     * @param preset {@code tiny} or {@code small}
     * @return the default options: 2 training threads, 1 sampling thread, a 1,024-token vocabulary
     */
    public static Options defaults(String preset) {
      return new Options(preset, 2, 1, 32, 128, 1024, 16, 32, 64, 10, 5);
    }
  }

  private PolicyBenchmark() {}

  /**
   * Runs the benchmark.
   *
   * @param options shapes and repetitions
   * @param out where the figures go
   * @throws IOException when /proc cannot be read for the RSS figure
   */
  public static void run(Options options, PrintStream out) throws IOException {
    PolicyRuntime.configureThreads(options.threads(), 1);
    ModelConfig config = ModelConfig.preset(options.preset(), options.vocab());
    int needed = Math.max(options.seq(), options.promptLength() + options.newTokens());
    if (needed > config.maxSeqLen()) {
      config = config.withMaxSeqLen(needed);
    }
    try (PolicyModel model = PolicyModel.create(config, 1);
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(1e-4).build()) {
      out.println("preset: " + options.preset() + " (" + config.layers() + " layers, dim " + config.dim() + ", vocab " + config.vocabSize() + ")");
      out.printf(Locale.ROOT, "params: %,d%n", model.parameterCount());
      out.println("threads: train " + options.threads() + ", sample " + options.sampleThreads() + " intra-op; "
          + PolicyRuntime.interOpThreads() + " inter-op; device " + model.device());
      Rng rng = new Rng(7);
      for (int i = 0; i < 3; i++) {
        trainStep(model, optimizer, options, rng);
      }
      long[] stepNanos = new long[options.trainSteps()];
      for (int i = 0; i < stepNanos.length; i++) {
        long start = System.nanoTime();
        trainStep(model, optimizer, options, rng);
        stepNanos[i] = System.nanoTime() - start;
      }
      double tokensPerStep = (double) options.batch() * options.seq();
      out.printf(Locale.ROOT, "train tokens/s: %.0f   (median of %d steps; best %.0f; batch %d x seq %d, forward + backward + clip + AdamW)%n",
          tokensPerStep / seconds(median(stepNanos)), stepNanos.length, tokensPerStep / seconds(min(stepNanos)), options.batch(), options.seq());

      PolicyRuntime.configureThreads(options.sampleThreads(), 1); // this thread's intra-op pool
      Sampler sampler = new Sampler(model, 0, 0);
      SamplingParams params = SamplingParams.reft(options.newTokens());
      sampleRound(sampler, params, options, rng);
      long[] roundNanos = new long[options.sampleRounds()];
      double[] rates = new double[roundNanos.length];
      for (int i = 0; i < roundNanos.length; i++) {
        long start = System.nanoTime();
        long generated = sampleRound(sampler, params, options, rng);
        roundNanos[i] = System.nanoTime() - start;
        rates[i] = generated / seconds(roundNanos[i]);
      }
      Arrays.sort(rates);
      out.printf(Locale.ROOT, "sample tokens/s: %.0f   (median of %d rounds; best %.0f; batch %d, prompt %d, %d new tokens, KV cache)%n",
          rates[rates.length / 2], rates.length, rates[rates.length - 1], options.sampleBatch(), options.promptLength(), options.newTokens());
      out.println("peak RSS MB: " + (peakRssKb() >> 10));
    }
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static long min(long[] values) {
    long m = Long.MAX_VALUE;
    for (long v : values) {
      m = Math.min(m, v);
    }
    return m;
  }

  private static void trainStep(PolicyModel model, AdamW optimizer, Options o, Rng rng) {
    long[] ids = new long[o.batch() * o.seq()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = rng.nextInt(o.vocab());
    }
    try (NDManager batch = model.newBatchManager(); GradientCollector collector = model.newGradientCollector()) {
      NDArray tokens = batch.create(ids, new Shape(o.batch(), o.seq()));
      NDArray mask = batch.ones(new Shape(o.batch(), o.seq()));
      ForwardOutput forward = model.forward(tokens, mask);
      NDArray loss = TokenLogProbs.nextTokenLogProbs(forward.logits(), tokens).mean().neg().add(forward.values().square().mean());
      collector.backward(loss);
    }
    GradientClipping.clipGlobalNorm(model, 1.0);
    optimizer.step();
    model.zeroGradients();
  }

  /** @return the number of tokens generated */
  private static long sampleRound(Sampler sampler, SamplingParams params, Options o, Rng rng) {
    List<int[]> prompts = new ArrayList<>();
    for (int b = 0; b < o.sampleBatch(); b++) {
      int[] p = new int[o.promptLength()];
      for (int i = 0; i < p.length; i++) {
        p[i] = 1 + rng.nextInt(o.vocab() - 1);
      }
      prompts.add(p);
    }
    long n = 0;
    for (Sample s : sampler.generate(prompts, params, rng.nextLong())) {
      n += s.length();
    }
    return n;
  }

  static long peakRssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("\\D+", ""));
      }
    }
    return -1;
  }
}
