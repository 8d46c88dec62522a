package dev.reft.policy.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.reft.policy.ForwardOutput;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.PolicyRuntime;
import dev.reft.policy.Scalars;
import dev.reft.policy.TokenLogProbs;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.sampling.SamplingParams;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import dev.reft.policy.train.AdamW;
import dev.reft.policy.train.GradientClipping;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * What a real pretrained model costs on the CPU: a policy of Qwen2.5-0.5B's shape (24 layers, hidden 896, 14 query
 * heads over 2 key/value heads, SwiGLU 4,864, vocabulary 151,936, tied embeddings, θ 10⁶, q/k/v biases) with random
 * weights. Prints, one figure per line:
 *
 * <pre>
 * params: N                     with the value head
 * init s: N                     seeded random weights (Java Gaussians) for every parameter
 * checkpoint write s: N         streamed, hashed, fsynced model.safetensors (and the rest of a checkpoint)
 * load s: N                     Checkpoint.open (verifies every hash) + loadModel (streams the weights in)
 * sample tokens/s: N            KV-cache generation, prefill included
 * train step s: N               forward + backward + clipping + AdamW on a PPO-like loss (clipped ratio × advantage
 *                               plus a value loss); the first step also allocates AdamW's moments
 * peak RSS MB: N
 * </pre>
 *
 * Not a test: it needs about 10 GB of memory and minutes on two cores; run it on purpose ({@code reft bench hf-shape}).
 */
public final class HfShapeBenchmark {

  /** Qwen2.5-0.5B's config.json (the keys the policy reads). */
  public static final String QWEN25_05B_CONFIG = """
      {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
       "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
       "max_position_embeddings": 32768, "rope_theta": 1000000.0, "rms_norm_eps": 1e-06, "tie_word_embeddings": true,
       "hidden_act": "silu", "initializer_range": 0.02, "use_sliding_window": false, "sliding_window": 32768,
       "max_window_layers": 24, "bos_token_id": 151643, "eos_token_id": 151643}
      """;

  /**
   * What to measure.
   *
   * @param threads PyTorch intra-op threads (training and sampling)
   * @param window the model's maxSeqLen (the causal mask is window² floats)
   * @param batch training sequences per step
   * @param seq training sequence length
   * @param steps training steps (the first allocates AdamW's state)
   * @param sampleBatch sequences generated together
   * @param promptLength prompt tokens per sequence
   * @param newTokens tokens generated per sequence
   */
  public record Options(int threads, int window, int batch, int seq, int steps, int sampleBatch, int promptLength, int newTokens) {}

  private HfShapeBenchmark() {}

  /**
   * Runs the benchmark in a temporary directory (deleted afterwards; the checkpoint takes 2 GB).
   *
   * @param o the options
   * @param out where the figures go
   * @throws IOException when the checkpoint cannot be written or read
   */
  public static void run(Options o, PrintStream out) throws IOException {
    PolicyRuntime.configureThreads(o.threads(), 1);
    ModelConfig config = ModelConfig.fromJson(QWEN25_05B_CONFIG).withMaxSeqLen(o.window());
    out.printf(Locale.ROOT, "shape: Qwen2.5-0.5B (%d layers, hidden %d, heads %d/%d, mlp %d, vocab %d, tied, rope_theta %.0f, q/k/v bias), window %d%n",
        config.layers(), config.dim(), config.heads(), config.kvHeads(), config.hiddenDim(), config.vocabSize(), config.ropeTheta(), config.maxSeqLen());
    out.println("threads: " + o.threads() + " intra-op, device " + PolicyRuntime.defaultDevice());
    Path dir = Files.createTempDirectory("reft-hf-shape-");
    try (PolicyTokenizer tokenizer = TokenizerBuilder.builder().build(List.of("0123456789 + - * / = the answer is"))) {
      long t0 = System.nanoTime();
      Checkpoint ckpt;
      try (PolicyModel created = PolicyModel.create(config, 1)) {
        out.printf(Locale.ROOT, "params: %,d%n", created.parameterCount());
        out.printf(Locale.ROOT, "init s: %.1f%n", seconds(System.nanoTime() - t0));
        long t1 = System.nanoTime();
        ckpt = Checkpoint.writer(created, tokenizer).write(dir.resolve("ckpt"));
        out.printf(Locale.ROOT, "checkpoint write s: %.1f   (%,d MB)%n", seconds(System.nanoTime() - t1),
            Files.size(ckpt.directory().resolve(Checkpoint.WEIGHTS)) >> 20);
      }
      long t2 = System.nanoTime();
      try (PolicyModel model = Checkpoint.open(ckpt.directory(), ckpt.identity()).loadModel(PolicyRuntime.defaultDevice(), DataType.FLOAT32);
          AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(1e-6).build()) {
        out.printf(Locale.ROOT, "load s: %.1f   (open verifies every hash, then model.safetensors streams in)%n", seconds(System.nanoTime() - t2));
        out.flush();
        Rng rng = new Rng(7);
        Sampler sampler = new Sampler(model, 0, 0);
        sample(sampler, o, rng, 4); // warm-up
        long t3 = System.nanoTime();
        long generated = sample(sampler, o, rng, o.newTokens());
        out.printf(Locale.ROOT, "sample tokens/s: %.1f   (batch %d, prompt %d, %d new tokens, KV cache, prefill included)%n",
            generated / seconds(System.nanoTime() - t3), o.sampleBatch(), o.promptLength(), o.newTokens());
        out.flush();
        for (int step = 1; step <= o.steps(); step++) {
          long t4 = System.nanoTime();
          trainStep(model, optimizer, o, rng);
          out.printf(Locale.ROOT, "train step s: %.1f   (step %d; batch %d x seq %d: forward + backward + clip + AdamW%s)%n",
              seconds(System.nanoTime() - t4), step, o.batch(), o.seq(), step == 1 ? "; allocates AdamW's moments" : "");
          out.flush();
        }
      }
      out.println("peak RSS MB: " + (PolicyBenchmark.peakRssKb() >> 10));
    } finally {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static long sample(Sampler sampler, Options o, Rng rng, int newTokens) {
    List<int[]> prompts = new ArrayList<>();
    for (int b = 0; b < o.sampleBatch(); b++) {
      int[] p = new int[o.promptLength()];
      for (int i = 0; i < p.length; i++) {
        p[i] = 1 + rng.nextInt(151_935);
      }
      prompts.add(p);
    }
    long n = 0;
    for (Sample s : sampler.generate(prompts, SamplingParams.reft(newTokens), rng.nextLong())) {
      n += s.length();
    }
    return n;
  }

  /** A PPO-shaped step: −mean(min(r·A, clip(r, 0.8, 1.2)·A)) + 0.5·mean((V − R)²), r = exp(log π − log π_old). */
  private static void trainStep(PolicyModel model, AdamW optimizer, Options o, Rng rng) {
    long[] ids = new long[o.batch() * o.seq()];
    float[] advantages = new float[o.batch() * (o.seq() - 1)];
    float[] returns = new float[o.batch() * o.seq()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = rng.nextInt(151_936);
      returns[i] = (float) rng.nextGaussian();
    }
    for (int i = 0; i < advantages.length; i++) {
      advantages[i] = (float) rng.nextGaussian();
    }
    try (NDManager batch = model.newBatchManager(); GradientCollector collector = model.newGradientCollector()) {
      NDArray tokens = batch.create(ids, new Shape(o.batch(), o.seq()));
      NDArray mask = batch.ones(new Shape(o.batch(), o.seq()));
      ForwardOutput forward = model.forward(tokens, mask);
      NDArray logProbs = TokenLogProbs.nextTokenLogProbs(forward.logits(), tokens); // (B, T-1)
      NDArray ratio = logProbs.sub(logProbs.stopGradient()).exp();
      NDArray adv = batch.create(advantages, new Shape(o.batch(), o.seq() - 1));
      NDArray clipped = ratio.minimum(Scalars.of(batch, 1.2)).maximum(Scalars.of(batch, 0.8));
      NDArray policyLoss = ratio.mul(adv).minimum(clipped.mul(adv)).mean().neg();
      NDArray valueLoss = forward.values().sub(batch.create(returns, new Shape(o.batch(), o.seq()))).square().mean();
      collector.backward(policyLoss.add(valueLoss.mul(Scalars.of(batch, 0.5))));
    }
    GradientClipping.clipGlobalNorm(model, 1.0);
    optimizer.step();
    model.zeroGradients();
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }
}
