package dev.reft.policy.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** AdamW against a plain-Java reference, state save / load, and global-norm clipping. */
class AdamWTest {

  static final ModelConfig CONFIG = new ModelConfig(30, 16, 1, 2, 2, 32, 16, false, 0.1f, 10_000f, 1e-5f);

  @Test
  void matchesTheReferenceUpdateRuleAndSkipsParametersWithoutGradient() {
    double lr = 0.01;
    double wd = 0.1;
    double b1 = 0.9;
    double b2 = 0.99;
    double eps = 1e-8;
    try (PolicyModel model = PolicyModel.create(CONFIG, 1);
        AdamW adamw = AdamW.builder().setModel(model).setLearningRate(lr).optBeta2(b2).optWeightDecay(wd).build()) {
      Map<String, double[]> weights = snapshot(model);
      Map<String, double[]> m = new LinkedHashMap<>();
      Map<String, double[]> v = new LinkedHashMap<>();
      weights.forEach((k, w) -> {
        m.put(k, new double[w.length]);
        v.put(k, new double[w.length]);
      });
      for (int t = 1; t <= 4; t++) {
        backward(model, t);
        Map<String, double[]> grads = gradients(model);
        adamw.step();
        model.zeroGradients();
        for (String name : weights.keySet()) {
          double[] g = grads.get(name);
          if (g == null) {
            continue; // v_head: the loss does not use the values
          }
          double[] w = weights.get(name);
          double[] mm = m.get(name);
          double[] vv = v.get(name);
          for (int i = 0; i < w.length; i++) {
            w[i] *= 1 - lr * wd;
            mm[i] = b1 * mm[i] + (1 - b1) * g[i];
            vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i];
            double denom = Math.sqrt(vv[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
            w[i] -= lr / (1 - Math.pow(b1, t)) * mm[i] / denom;
          }
        }
        Map<String, double[]> actual = snapshot(model);
        for (String name : weights.keySet()) {
          assertThat(maxDiff(actual.get(name), weights.get(name))).as("%s after step %d", name, t).isLessThan(2e-6);
        }
      }
      assertThat(adamw.stepCount()).isEqualTo(4);
      assertThat(gradients(model)).doesNotContainKey("v_head.weight");
    }
  }

  @Test
  void savedStateRestoresTheMomentsStepAndLearningRate() {
    try (PolicyModel model = PolicyModel.create(CONFIG, 2);
        AdamW adamw = AdamW.builder().setModel(model).setLearningRate(0.02).build();
        PolicyModel twin = model.copy();
        AdamW restored = AdamW.builder().setModel(twin).setLearningRate(0.5).build()) {
      for (int t = 0; t < 2; t++) {
        backward(model, t);
        adamw.step();
        model.zeroGradients();
      }
      twin.copyWeightsFrom(model);
      restored.loadState(adamw.saveState());
      assertThat(restored.stepCount()).isEqualTo(2);
      assertThat(restored.learningRate()).isEqualTo(0.02);
      for (PolicyModel pm : List.of(model, twin)) {
        backward(pm, 7);
      }
      adamw.step();
      restored.step();
      Map<String, double[]> a = snapshot(model);
      Map<String, double[]> b = snapshot(twin);
      for (String name : a.keySet()) {
        assertThat(b.get(name)).as(name).containsExactly(a.get(name));
      }
      try (AdamW other = AdamW.builder().setModel(twin).setLearningRate(0.02).optBeta1(0.8).build()) {
        assertThatThrownBy(() -> other.loadState(adamw.saveState())).hasMessageContaining("beta1");
      }
    }
  }

  @Test
  void clipsTheGlobalNormOfAllGradients() {
    try (PolicyModel model = PolicyModel.create(CONFIG, 3)) {
      backward(model, 1);
      double norm = globalNorm(gradients(model));
      assertThat(GradientClipping.clipGlobalNorm(model, norm * 10)).isCloseTo(norm, org.assertj.core.data.Offset.offset(norm * 1e-5));
      assertThat(globalNorm(gradients(model))).isCloseTo(norm, org.assertj.core.data.Offset.offset(norm * 1e-5));
      assertThat(GradientClipping.clipGlobalNorm(model, norm / 4)).isCloseTo(norm, org.assertj.core.data.Offset.offset(norm * 1e-5));
      assertThat(globalNorm(gradients(model))).isCloseTo(norm / 4, org.assertj.core.data.Offset.offset(norm * 1e-5));
      model.zeroGradients();
      assertThat(globalNorm(gradients(model))).isZero();
    }
  }

  /** A next-token loss on random sequences (the values are unused, so v_head gets no gradient). */
  static void backward(PolicyModel model, long seed) {
    Random random = new Random(seed);
    List<int[]> seqs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      int[] s = new int[6 + i];
      for (int j = 0; j < s.length; j++) {
        s[j] = random.nextInt(CONFIG.vocabSize());
      }
      seqs.add(s);
    }
    try (NDManager batch = model.newBatchManager(); GradientCollector collector = model.newGradientCollector()) {
      collector.backward(SftLoss.of(model, batch, seqs, new int[] {1, 1, 1, 1}));
    }
  }

  static Map<String, double[]> snapshot(PolicyModel model) {
    Map<String, double[]> out = new LinkedHashMap<>();
    model.namedParameters().forEach((name, p) -> out.put(name, toDoubles(p.getArray())));
    return out;
  }

  static Map<String, double[]> gradients(PolicyModel model) {
    Map<String, double[]> out = new LinkedHashMap<>();
    try (NDManager scratch = model.newBatchManager()) {
      for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
        NDArray g = PolicyModel.gradient(e.getValue(), scratch);
        if (g != null) {
          out.put(e.getKey(), toDoubles(g));
        }
      }
    }
    return out;
  }

  static double[] toDoubles(NDArray a) {
    float[] f = a.toFloatArray();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  static double globalNorm(Map<String, double[]> grads) {
    double sum = 0;
    for (double[] g : grads.values()) {
      for (double x : g) {
        sum += x * x;
      }
    }
    return Math.sqrt(sum);
  }

  static double maxDiff(double[] a, double[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}
