package dev.reft.policy.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.NoGrad;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenLogProbs;
import dev.reft.policy.nn.KvCache;
import dev.reft.policy.nn.LlamaDecoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Batched generation with a KV cache: the prompts are left-padded and run once (prefill), then each
 * step feeds one token per sequence. Every sequence stops on its own at EOS; the batch ends when all
 * have stopped or the token budget is spent.
 *
 * <p>The token choice happens on the Java side ({@link TokenChooser}) from the last position's
 * distribution (log-softmax computed natively), with one {@link Rng} stream per sequence, so results
 * are reproducible from the seeds. The recorded behaviour log-probabilities are those of the
 * distribution actually sampled from; at temperature 1 without top-k / top-p they equal the training
 * forward's {@code log_softmax} of the same tokens (tested to 1e-4).
 *
 * <p>Shapes: B batch, Tp padded prompt length, Tk cache length, V vocabulary. Each generation uses its
 * own sub-manager of the model's manager and each step a sub-manager of that, so memory stays flat over
 * long runs. Thread-safe: concurrent calls share only the (read-only) weights; do not close the model
 * while a generation runs.
 *
 * <p>Speed: a decoding step is about a hundred small ops. With two intra-op threads each small matrix
 * multiply pays an OpenMP wake-up (about 3× slower per op on this machine), so a sampling process runs
 * best with one intra-op thread ({@code PolicyRuntime.configureThreads(1, 1)}) and parallelism across
 * concurrent generations.
 */
public final class Sampler {

  private final PolicyModel model;
  private final int eosId;
  private final int padId;

  /**
   * @param model the policy to sample from
   * @param eosId the end-of-sequence token, which stops a sequence
   * @param padId the token fed for left padding and for sequences that have stopped
   */
  public Sampler(PolicyModel model, int eosId, int padId) {
    int v = model.config().vocabSize();
    if (eosId < 0 || eosId >= v || padId < 0 || padId >= v) {
      throw new IllegalArgumentException("eos " + eosId + " and pad " + padId + " must be token ids below " + v);
    }
    this.model = model;
    this.eosId = eosId;
    this.padId = padId;
  }

  /** @return the policy this sampler draws from */
  public PolicyModel model() {
    return model;
  }

  /**
   * Greedy (top-1) decoding.
   *
   * @param prompts the prompt token ids (each non-empty; include BOS yourself)
   * @param maxNewTokens the longest response
   * @return one sample per prompt, in order
   */
  public List<Sample> greedy(List<int[]> prompts, int maxNewTokens) {
    return generate(prompts, SamplingParams.greedy(maxNewTokens), 0L);
  }

  /**
   * Samples one response per prompt; sequence i uses the stream {@code Rng.stream(seed, i)}.
   *
   * @param prompts the prompt token ids (each non-empty)
   * @param params temperature, top-k, top-p, max new tokens
   * @param seed the batch seed
   * @return one sample per prompt, in order
   */
  public List<Sample> generate(List<int[]> prompts, SamplingParams params, long seed) {
    Rng[] rngs = new Rng[prompts.size()];
    for (int i = 0; i < rngs.length; i++) {
      rngs[i] = Rng.stream(seed, i);
    }
    return generate(prompts, params, rngs);
  }

  /**
   * Samples one response per prompt with caller-supplied generators (e.g. one per (request, sample
   * index), so a sequence's randomness does not depend on what else is in the batch).
   *
   * @param prompts the prompt token ids (each non-empty)
   * @param params temperature, top-k, top-p, max new tokens
   * @param rngs one generator per prompt; advanced by one draw per sampled token
   * @return one sample per prompt, in order
   */
  @SuppressWarnings("try") // the NoGrad guard is used for its scope only
  public List<Sample> generate(List<int[]> prompts, SamplingParams params, Rng[] rngs) {
    ModelConfig config = model.config();
    int b = prompts.size();
    if (b == 0) {
      return List.of();
    }
    if (rngs.length != b) {
      throw new IllegalArgumentException(rngs.length + " generators for " + b + " prompts");
    }
    int tp = 0;
    for (int[] p : prompts) {
      if (p.length == 0) {
        throw new IllegalArgumentException("empty prompt: start each prompt with at least BOS");
      }
      for (int id : p) {
        if (id < 0 || id >= config.vocabSize()) {
          throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + config.vocabSize());
        }
      }
      tp = Math.max(tp, p.length);
    }
    if (tp >= config.maxSeqLen()) {
      throw new IllegalArgumentException("a prompt of " + tp + " tokens leaves no room below maxSeqLen " + config.maxSeqLen());
    }
    int steps = Math.min(params.maxNewTokens(), config.maxSeqLen() - tp);
    int vocab = config.vocabSize();
    LlamaDecoder decoder = model.decoder();
    TokenChooser chooser = new TokenChooser();

    int[][] tokens = new int[b][steps];
    float[][] logProbs = new float[b][steps];
    int[] produced = new int[b];
    FinishReason[] finished = new FinishReason[b];
    int[] nextPosition = new int[b]; // the position of the next token fed for each row: its real length
    int capacity = tp + steps - 1; // prompt + fed tokens; the last chosen token is never fed back
    float[] keyMask = new float[b * capacity]; // additive mask per cache slot: 0 or MASKED

    try (NoGrad ignored = NoGrad.enter();
        NDManager generation = model.newBatchManager();
        KvCache cache = KvCache.allocate(generation, config, b, capacity, model.dataType())) {
      Distribution next = prefill(generation, decoder, cache, prompts, tp, nextPosition, keyMask, params);
      for (int s = 0; s < steps; s++) {
        boolean anyActive = false;
        long[] feed = new long[b];
        long[] positions = new long[b];
        for (int r = 0; r < b; r++) {
          feed[r] = padId;
          positions[r] = Math.min(nextPosition[r], config.maxSeqLen() - 1);
          if (finished[r] != null) {
            continue;
          }
          TokenChooser.Choice c = params.isGreedy()
              ? chooser.greedy(next.logProbs, r * vocab, vocab)
              : chooser.sample(next.logProbs, next.probs, r * vocab, vocab, params, rngs[r]);
          tokens[r][produced[r]] = c.token();
          logProbs[r][produced[r]] = c.logProb();
          produced[r]++;
          if (c.token() == eosId) {
            finished[r] = FinishReason.EOS;
          } else if (produced[r] == steps) {
            finished[r] = FinishReason.LENGTH;
          } else {
            anyActive = true;
            feed[r] = c.token();
            nextPosition[r]++;
          }
        }
        if (!anyActive) {
          break;
        }
        int slot = tp + s; // cache slot of the token fed now
        int tk = slot + 1;
        float[] stepMask = new float[b * tk];
        for (int r = 0; r < b; r++) {
          keyMask[r * capacity + slot] = finished[r] == null ? 0f : LlamaDecoder.MASKED;
          System.arraycopy(keyMask, r * capacity, stepMask, r * tk, tk);
        }
        try (NDManager step = generation.newSubManager()) {
          NDArray ids = step.create(feed, new Shape(b, 1));
          NDArray pos = step.create(positions, new Shape(b, 1));
          NDArray mask = step.create(stepMask, new Shape(b, 1, 1, tk));
          next = Distribution.of(decoder.forwardCached(ids, pos, mask, cache, false), params); // (B, 1, V)
        }
      }
    }
    List<Sample> samples = new ArrayList<>(b);
    for (int r = 0; r < b; r++) {
      samples.add(new Sample(Arrays.copyOf(tokens[r], produced[r]), Arrays.copyOf(logProbs[r], produced[r]), finished[r]));
    }
    return samples;
  }

  /**
   * Runs the left-padded prompts through the model, filling the cache.
   *
   * @return the next-token distribution after the prompts
   */
  private Distribution prefill(
      NDManager generation,
      LlamaDecoder decoder,
      KvCache cache,
      List<int[]> prompts,
      int tp,
      int[] nextPosition,
      float[] keyMask,
      SamplingParams params) {
    int b = prompts.size();
    int cacheWidth = keyMask.length / b;
    long[] ids = new long[b * tp];
    float[] valid = new float[b * tp];
    for (int r = 0; r < b; r++) {
      int[] p = prompts.get(r);
      int pad = tp - p.length;
      for (int t = 0; t < tp; t++) {
        boolean real = t >= pad;
        ids[r * tp + t] = real ? p[t - pad] : padId;
        valid[r * tp + t] = real ? 1f : 0f;
        keyMask[r * cacheWidth + t] = real ? 0f : LlamaDecoder.MASKED;
      }
      nextPosition[r] = p.length;
    }
    try (NDManager step = generation.newSubManager()) {
      NDArray tokens = step.create(ids, new Shape(b, tp));
      NDArray attention = step.create(valid, new Shape(b, tp));
      NDArray positions = LlamaDecoder.positions(attention);
      NDArray mask = decoder.causalMask(attention); // (B, 1, Tp, Tp)
      return Distribution.of(decoder.forwardCached(tokens, positions, mask, cache, true), params); // (B, 1, V)
    }
  }

  /**
   * The next-token distribution of every row, copied to Java: log-probabilities at the sampling
   * temperature (the untempered model's for greedy decoding) and, when sampling, their exponentials.
   * Softmax and exponentials run natively; only sums and comparisons run in Java.
   */
  private record Distribution(float[] logProbs, float[] probs) {

    static Distribution of(NDArray logits, SamplingParams params) {
      NDArray scaled = params.isGreedy() ? logits : TokenLogProbs.withTemperature(logits, params.temperature());
      NDArray logProbs = scaled.logSoftmax(2); // (B, 1, V)
      return new Distribution(logProbs.toFloatArray(), params.isGreedy() ? null : logProbs.exp().toFloatArray());
    }
  }
}
