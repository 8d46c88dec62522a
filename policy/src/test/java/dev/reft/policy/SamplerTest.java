package dev.reft.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.reft.policy.sampling.FinishReason;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** KV-cache sampling against full recomputation and against the training forward. */
class SamplerTest {

  static final int VOCAB = 50;
  static final int PAD = 0;
  static final int NO_EOS = 1; // an id the prompts never contain; generation may still produce it
  static PolicyModel model;
  static List<int[]> prompts;

  @BeforeAll
  static void setUp() {
    model = PolicyModel.create(TestModels.small(VOCAB), 11);
    prompts = TestModels.randomSequences(5, 4, 3, 9, 2, VOCAB); // different lengths: left padding
  }

  @AfterAll
  static void tearDown() {
    model.close();
  }

  @Test
  void kvCacheGreedyMatchesFullRecomputation() {
    List<Sample> cached = new Sampler(model, NO_EOS, PAD).greedy(prompts, 20);
    for (int r = 0; r < prompts.size(); r++) {
      int[] seq = prompts.get(r);
      Sample sample = cached.get(r);
      for (int s = 0; s < sample.length(); s++) {
        // Recompute the whole sequence without a cache and take the argmax of the last position.
        try (NDManager batch = model.newBatchManager()) {
          TokenBatch b = TokenBatch.rightPadded(batch, List.of(seq), PAD);
          NDArray last = TokenLogProbs.logSoftmax(model.forward(b.tokens(), b.attentionMask()).logits()).get(new NDIndex("0, -1, :"));
          int argmax = (int) last.argMax().getLong();
          assertThat(sample.tokens()[s]).as("row %d step %d", r, s).isEqualTo(argmax);
          assertThat((double) sample.logProbs()[s]).isCloseTo(last.getFloat(argmax), org.assertj.core.data.Offset.offset(1e-4));
        }
        seq = TestModels.concat(seq, new int[] {sample.tokens()[s]});
      }
    }
  }

  @Test
  void behaviourLogProbsEqualTheTrainingForward() {
    for (double temperature : new double[] {1.0, 0.7}) {
      List<Sample> samples = new Sampler(model, NO_EOS, PAD).generate(prompts, new SamplingParams(temperature, 0, 1, 16), 99);
      List<int[]> full = new ArrayList<>();
      for (int r = 0; r < prompts.size(); r++) {
        full.add(TestModels.concat(prompts.get(r), samples.get(r).tokens()));
      }
      try (NDManager batch = model.newBatchManager()) {
        TokenBatch b = TokenBatch.rightPadded(batch, full, PAD);
        NDArray logits = TokenLogProbs.withTemperature(model.forward(b.tokens(), b.attentionMask()).logits(), temperature);
        float[] next = TokenLogProbs.nextTokenLogProbs(logits, b.tokens()).toFloatArray(); // (B, T-1)
        int width = (int) b.tokens().getShape().get(1) - 1;
        for (int r = 0; r < prompts.size(); r++) {
          Sample sample = samples.get(r);
          for (int s = 0; s < sample.length(); s++) {
            int index = prompts.get(r).length - 1 + s; // entry t scores token t + 1
            assertThat((double) sample.logProbs()[s]).as("T=%s row %d token %d", temperature, r, s)
                .isCloseTo(next[r * width + index], org.assertj.core.data.Offset.offset(1e-4));
          }
        }
      }
    }
  }

  @Test
  void sameSeedSameSamplesAndDifferentSeedDifferentSamples() {
    Sampler sampler = new Sampler(model, NO_EOS, PAD);
    SamplingParams params = SamplingParams.reft(12);
    List<Sample> a = sampler.generate(prompts, params, 1);
    List<Sample> b = sampler.generate(prompts, params, 1);
    List<Sample> c = sampler.generate(prompts, params, 2);
    for (int r = 0; r < prompts.size(); r++) {
      assertThat(b.get(r).tokens()).containsExactly(a.get(r).tokens());
      assertThat(b.get(r).logProbs()).containsExactly(a.get(r).logProbs());
    }
    assertThat(tokensOf(c)).isNotEqualTo(tokensOf(a));
  }

  @Test
  void eachSequenceStopsAtItsOwnEos() {
    Sampler free = new Sampler(model, NO_EOS, PAD);
    List<Sample> reference = free.greedy(prompts, 15);
    int eos = reference.get(0).tokens()[3]; // a token row 0 produces at step 3
    List<Sample> stopped = new Sampler(model, eos, PAD).greedy(prompts, 15);
    for (int r = 0; r < prompts.size(); r++) {
      int[] ref = reference.get(r).tokens();
      int first = indexOf(ref, eos);
      Sample s = stopped.get(r);
      if (first >= 0) {
        assertThat(s.tokens()).containsExactly(Arrays.copyOf(ref, first + 1));
        assertThat(s.finishReason()).isEqualTo(FinishReason.EOS);
      } else {
        assertThat(s.tokens()).containsExactly(ref);
        assertThat(s.finishReason()).isEqualTo(FinishReason.LENGTH);
      }
    }
    assertThat(stopped.get(0).length()).isLessThanOrEqualTo(4);
  }

  @Test
  void topKOneIsGreedyAndLengthIsCappedByMaxSeqLen() {
    Sampler sampler = new Sampler(model, NO_EOS, PAD);
    List<Sample> greedy = sampler.greedy(prompts, 10);
    List<Sample> top1 = sampler.generate(prompts, new SamplingParams(1.3, 1, 1, 10), 5);
    assertThat(tokensOf(top1)).isEqualTo(tokensOf(greedy));
    for (Sample s : top1) {
      for (float lp : s.logProbs()) {
        assertThat((double) lp).isCloseTo(0, org.assertj.core.data.Offset.offset(1e-6)); // the only kept token has probability 1
      }
    }
    int[] longPrompt = TestModels.randomSequences(6, 1, 60, 60, 2, VOCAB).get(0);
    Sample capped = sampler.greedy(List.of(longPrompt), 50).get(0);
    assertThat(capped.length()).isEqualTo(4); // maxSeqLen 64
    assertThat(capped.finishReason()).isEqualTo(FinishReason.LENGTH);
    assertThatThrownBy(() -> sampler.greedy(List.of(new int[64]), 1)).hasMessageContaining("no room");
    assertThatThrownBy(() -> sampler.greedy(List.of(new int[0]), 1)).hasMessageContaining("empty prompt");
  }

  @Test
  void samplingRunsOnOtherThreadsAndConcurrently() throws Exception {
    List<Sample> here = new Sampler(model, NO_EOS, PAD).generate(prompts, SamplingParams.reft(8), 3);
    List<List<Sample>> there = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> workers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      workers.add(new Thread(() -> there.add(new Sampler(model, NO_EOS, PAD).generate(prompts, SamplingParams.reft(8), 3))));
    }
    workers.forEach(Thread::start);
    for (Thread w : workers) {
      w.join();
    }
    assertThat(there).hasSize(2);
    for (List<Sample> result : there) {
      assertThat(tokensOf(result)).isEqualTo(tokensOf(here));
    }
  }

  static List<List<Integer>> tokensOf(List<Sample> samples) {
    List<List<Integer>> out = new ArrayList<>();
    for (Sample s : samples) {
      out.add(Arrays.stream(s.tokens()).boxed().toList());
    }
    return out;
  }

  static int indexOf(int[] a, int v) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == v) {
        return i;
      }
    }
    return -1;
  }
}
