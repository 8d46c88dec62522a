package dev.reft.policy.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.reft.policy.ForwardOutput;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.NoGrad;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.Scalars;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.TokenLogProbs;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The DJL scalar-op pitfall: a scalar that autograd references must stay valid until {@code backward()},
 * whatever the garbage collector does. Builds a PPO-style loss whose constants come from {@link Scalars}
 * in a manager that is closed <em>before</em> the backward pass, forces garbage collection, and checks
 * every sampled gradient entry against central finite differences (float64 model, so the comparison is
 * tight).
 */
class ScalarsGradientTest {

  static final ModelConfig CONFIG = new ModelConfig(12, 16, 1, 2, 1, 24, 16, false, 0.3f, 10_000f, 1e-5f);
  static final List<int[]> SEQUENCES = List.of(new int[] {1, 5, 7, 2, 9, 3}, new int[] {4, 4, 8, 11}, new int[] {0, 2, 6, 10, 1});

  @Test
  void gradientsSurviveGarbageCollectionBetweenForwardAndBackward() throws InterruptedException {
    try (PolicyModel model = PolicyModel.create(CONFIG, 21, Device.cpu(), DataType.FLOAT64)) {
      try (NDManager batch = model.newBatchManager(); GradientCollector collector = model.newGradientCollector()) {
        NDArray loss = ppoStyleLoss(model, batch);
        forceGarbageCollection();
        collector.backward(loss);
      }
      Random random = new Random(4);
      int checked = 0;
      try (NDManager scratch = model.newBatchManager()) {
        for (String name : List.of("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
            "model.layers.0.self_attn.v_proj.weight", "model.layers.0.input_layernorm.weight", "model.layers.0.mlp.down_proj.weight",
            "model.norm.weight", "lm_head.weight", "v_head.weight")) {
          Parameter p = model.namedParameters().get(name);
          double[] grad = PolicyModel.gradient(p, scratch).toDoubleArray();
          for (int k = 0; k < 3; k++) {
            int index = random.nextInt(grad.length);
            double numeric = finiteDifference(model, p, index);
            assertThat(grad[index]).as("%s[%d]", name, index).isCloseTo(numeric, org.assertj.core.data.Offset.offset(1e-6 + 1e-5 * Math.abs(numeric)));
            checked++;
          }
        }
      }
      assertThat(checked).isEqualTo(27);
    }
  }

  /**
   * −min(r·A, clip(r, 0.8, 1.2)·A) + 5 · 0.5 · (V − R)² − 0.01 · H, averaged over tokens; every scalar
   * created in a sub-manager that is closed before returning.
   */
  static NDArray ppoStyleLoss(PolicyModel model, NDManager batch) {
    TokenBatch b = TokenBatch.rightPadded(batch, SEQUENCES, 0);
    ForwardOutput out = model.forward(b.tokens(), b.attentionMask());
    NDArray logProbs = TokenLogProbs.nextTokenLogProbs(out.logits(), b.tokens()); // (B, T-1)
    Shape shape = logProbs.getShape();
    Random random = new Random(8);
    double[] old = new double[(int) shape.size()];
    double[] advantages = new double[old.length];
    double[] returns = new double[old.length];
    for (int i = 0; i < old.length; i++) {
      old[i] = -2.5 + 0.4 * random.nextGaussian();
      advantages[i] = random.nextGaussian();
      returns[i] = random.nextGaussian();
    }
    NDArray oldLogProbs = batch.create(old, shape);
    NDArray adv = batch.create(advantages, shape);
    NDArray ret = batch.create(returns, shape);
    NDArray values = out.values().get(new NDIndex(":, :-1"));
    try (NDManager constants = batch.newSubManager()) {
      NDArray ratio = logProbs.sub(oldLogProbs).exp();
      NDArray unclipped = ratio.mul(adv);
      NDArray clipped = ratio.clip(0.8, 1.2).mul(adv);
      NDArray policyLoss = NDArrays.minimum(unclipped, clipped).neg();
      NDArray valueLoss = values.sub(ret).square().mul(Scalars.of(constants, 0.5, DataType.FLOAT64));
      NDArray entropy = TokenLogProbs.entropy(out.logits().get(new NDIndex(":, :-1, :")));
      NDArray perToken = policyLoss.add(valueLoss.mul(Scalars.of(constants, 5.0, DataType.FLOAT64)))
          .sub(entropy.mul(Scalars.of(constants, 0.01, DataType.FLOAT64)));
      NDArray loss = perToken.mean().mul(Scalars.of(constants, 3.0, DataType.FLOAT64)).div(Scalars.of(constants, 3.0, DataType.FLOAT64));
      loss.attach(batch);
      return loss;
    } // the scalars' Java handles are closed here; autograd must not depend on them
  }

  static double finiteDifference(PolicyModel model, Parameter p, int index) {
    double h = 1e-6;
    NDArray w = p.getArray();
    double original = w.toDoubleArray()[index];
    double plus = lossAt(model, w, index, original + h);
    double minus = lossAt(model, w, index, original - h);
    lossAt(model, w, index, original);
    return (plus - minus) / (2 * h);
  }

  @SuppressWarnings("try") // the NoGrad guard is used for its scope only
  static double lossAt(PolicyModel model, NDArray w, int index, double value) {
    try (NoGrad ignored = NoGrad.enter(); NDManager batch = model.newBatchManager()) {
      long[] coords = new long[w.getShape().dimension()];
      long rest = index;
      for (int d = coords.length - 1; d >= 0; d--) {
        coords[d] = rest % w.getShape().get(d);
        rest /= w.getShape().get(d);
      }
      w.set(new NDIndex(coords), Scalars.of(batch, value, DataType.FLOAT64));
      return ppoStyleLoss(model, batch).getDouble();
    }
  }

  static void forceGarbageCollection() throws InterruptedException {
    List<byte[]> garbage = new ArrayList<>();
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < 200; i++) {
        garbage.add(new byte[64 * 1024]);
      }
      garbage.clear();
      System.gc();
      Thread.sleep(20);
    }
  }
}
