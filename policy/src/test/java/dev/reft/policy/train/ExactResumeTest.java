package dev.reft.policy.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.sampling.Rng;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop after a few steps, checkpoint weights + optimizer state + RNG state, resume in a fresh model and
 * optimizer: the next steps produce bit-identical weights to an uninterrupted run.
 */
class ExactResumeTest {

  @Test
  void resumingFromACheckpointContinuesBitForBit(@TempDir Path tmp) throws Exception {
    try (PolicyTokenizer tokenizer = TokenizerBuilder.builder().build(List.of("abcdefghij klmnop 0123456789"));
        PolicyModel model = PolicyModel.create(new ModelConfig(tokenizer.vocabSize(), 32, 2, 4, 4, 64, 32, true, 0.05f, 10_000f, 1e-5f), 3);
        AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(1e-3).optWeightDecay(0.01).build()) {
      Rng data = new Rng(77);
      for (int step = 0; step < 3; step++) {
        trainStep(model, optimizer, data, tokenizer.vocabSize());
      }
      Checkpoint checkpoint = Checkpoint.writer(model, tokenizer)
          .file("optimizer.safetensors", optimizer.saveState())
          .file("rng.bin", ByteBuffer.allocate(8).putLong(data.state()).array())
          .metadata("step", "3")
          .write(tmp.resolve("step-3"));
      for (int step = 3; step < 6; step++) {
        trainStep(model, optimizer, data, tokenizer.vocabSize());
      }

      Checkpoint reopened = Checkpoint.open(checkpoint.directory(), checkpoint.identity());
      try (PolicyModel resumed = reopened.loadModel(Device.cpu(), DataType.FLOAT32);
          AdamW resumedOptimizer = AdamW.builder().setModel(resumed).setLearningRate(123).optWeightDecay(0.01).build()) {
        resumedOptimizer.loadState(reopened.read("optimizer.safetensors"));
        Rng resumedData = Rng.fromState(ByteBuffer.wrap(reopened.read("rng.bin")).getLong());
        for (int step = 3; step < 6; step++) {
          trainStep(resumed, resumedOptimizer, resumedData, tokenizer.vocabSize());
        }
        assertThat(resumedOptimizer.stepCount()).isEqualTo(6);
        for (Map.Entry<String, ai.djl.nn.Parameter> e : model.namedParameters().entrySet()) {
          assertThat(resumed.namedParameters().get(e.getKey()).getArray().toFloatArray()).as(e.getKey())
              .containsExactly(e.getValue().getArray().toFloatArray());
        }
      }
    }
  }

  static void trainStep(PolicyModel model, AdamW optimizer, Rng data, int vocab) {
    List<int[]> seqs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      int[] s = new int[5 + data.nextInt(8)];
      for (int j = 0; j < s.length; j++) {
        s[j] = data.nextInt(vocab);
      }
      seqs.add(s);
    }
    try (NDManager batch = model.newBatchManager(); GradientCollector collector = model.newGradientCollector()) {
      collector.backward(SftLoss.of(model, batch, seqs, new int[] {2, 2, 2, 2}));
    }
    GradientClipping.clipGlobalNorm(model, 1.0);
    optimizer.step();
    model.zeroGradients();
  }
}
