package dev.reft.policy.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.sampling.FinishReason;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * End to end: tokenizer, training forward, AdamW, clipping, then KV-cache greedy decoding. The model
 * must memorise 64 arithmetic facts to near-zero loss and reproduce every answer followed by EOS.
 */
class OverfitTest {

  @Test
  void learnsSixtyFourArithmeticFactsAndReproducesThemGreedily() {
    Random random = new Random(3);
    Set<String> questions = new LinkedHashSet<>();
    while (questions.size() < 64) {
      questions.add(random.nextInt(50) + "+" + random.nextInt(50) + "=");
    }
    List<String> prompts = new ArrayList<>(questions);
    List<String> answers = new ArrayList<>();
    List<String> corpus = new ArrayList<>();
    for (String q : prompts) {
      String[] ab = q.substring(0, q.length() - 1).split("\\+");
      String answer = Integer.toString(Integer.parseInt(ab[0]) + Integer.parseInt(ab[1]));
      answers.add(answer);
      corpus.add(q + answer);
    }
    try (PolicyTokenizer tokenizer = TokenizerBuilder.builder().build(corpus);
        PolicyModel model =
            PolicyModel.create(new ModelConfig(tokenizer.vocabSize(), 64, 2, 4, 4, 170, 32, true, 0.02f, 10_000f, 1e-5f), 5);
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(3e-3).build()) {
      List<int[]> promptIds = new ArrayList<>();
      List<int[]> sequences = new ArrayList<>();
      int[] promptLengths = new int[prompts.size()];
      for (int i = 0; i < prompts.size(); i++) {
        int[] p = prepend(tokenizer.bos(), tokenizer.encode(prompts.get(i)));
        int[] a = append(tokenizer.encode(answers.get(i)), tokenizer.eos());
        promptIds.add(p);
        sequences.add(concat(p, a));
        promptLengths[i] = p.length;
      }
      double loss = Double.NaN;
      for (int step = 0; step < 600; step++) {
        try (NDManager batch = model.newBatchManager(); GradientCollector collector = model.newGradientCollector()) {
          NDArray l = SftLoss.of(model, batch, sequences, promptLengths);
          collector.backward(l);
          loss = l.getFloat();
        }
        GradientClipping.clipGlobalNorm(model, 1.0);
        optimizer.step();
        model.zeroGradients();
        if (loss < 0.005) {
          break;
        }
      }
      assertThat(loss).as("final training loss").isLessThan(0.01);
      List<Sample> greedy = new Sampler(model, tokenizer.eos(), tokenizer.pad()).greedy(promptIds, 6);
      for (int i = 0; i < prompts.size(); i++) {
        assertThat(tokenizer.decode(greedy.get(i).tokens())).as(prompts.get(i)).isEqualTo(answers.get(i));
        assertThat(greedy.get(i).finishReason()).isEqualTo(FinishReason.EOS);
      }
    }
  }

  static int[] prepend(int first, int[] rest) {
    return concat(new int[] {first}, rest);
  }

  static int[] append(int[] head, int last) {
    return concat(head, new int[] {last});
  }

  static int[] concat(int[] a, int[] b) {
    int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
