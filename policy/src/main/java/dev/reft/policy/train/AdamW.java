package dev.reft.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.reft.policy.NoGrad;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.Scalars;
import dev.reft.policy.checkpoint.SafeTensors;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter 2019) with decoupled weight decay: the update rule of {@code
 * torch.optim.AdamW} (non-amsgrad), including its bias corrections:
 *
 * <pre>
 * p ← p · (1 − lr·λ)
 * m ← β1·m + (1 − β1)·g
 * v ← β2·v + (1 − β2)·g²
 * p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 *
 * <p>Why not DJL's optimizer: its moments are private and keyed by per-process parameter ids, so they
 * cannot be saved; exact resume needs them. Here the state (step count t and the moments m, v of every
 * parameter, keyed by the parameter's Hugging Face name) is saved with {@link #saveState()} and restored
 * with {@link #loadState(byte[])} — put the bytes into the checkpoint as an extra file.
 *
 * <p>A parameter without a gradient (not reached by any backward pass yet) is skipped, as in PyTorch.
 * Frozen parameters are not managed. Updates run under {@link NoGrad}; call {@link #step()} after the
 * gradient collector is closed.
 */
public final class AdamW implements AutoCloseable {

  private final PolicyModel model;
  private final Map<String, Parameter> params = new LinkedHashMap<>();
  private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
  private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
  private final NDManager stateManager;
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private double learningRate;
  private long step;

  private AdamW(Builder b) {
    model = b.model;
    beta1 = b.beta1;
    beta2 = b.beta2;
    eps = b.eps;
    weightDecay = b.weightDecay;
    learningRate = b.learningRate;
    stateManager = model.manager().newSubManager();
    for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
      if (e.getValue().requiresGradient()) {
        NDArray w = e.getValue().getArray();
        params.put(e.getKey(), e.getValue());
        expAvg.put(e.getKey(), stateManager.zeros(w.getShape(), w.getDataType()));
        expAvgSq.put(e.getKey(), stateManager.zeros(w.getShape(), w.getDataType()));
      }
    }
  }

  /** @return a builder; {@code setModel} and {@code setLearningRate} are required */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the learning rate used by the next {@link #step()} */
  public double learningRate() {
    return learningRate;
  }

  /**
   * Changes the learning rate (schedules call this before each step; it is not part of the saved state).
   *
   * @param learningRate the new rate, ≥ 0
   */
  public void setLearningRate(double learningRate) {
    if (!(learningRate >= 0)) {
      throw new IllegalArgumentException("learning rate must be >= 0: " + learningRate);
    }
    this.learningRate = learningRate;
  }

  /** @return the number of steps taken (t) */
  public long stepCount() {
    return step;
  }

  /** Applies one update from the accumulated gradients (it does not zero them). */
  @SuppressWarnings("try") // the NoGrad guard is used for its scope only
  public void step() {
    step++;
    double biasCorrection1 = 1 - Math.pow(beta1, step);
    double biasCorrection2 = 1 - Math.pow(beta2, step);
    try (NoGrad ignored = NoGrad.enter(); NDManager scratch = stateManager.newSubManager()) {
      Constants c = null;
      for (Map.Entry<String, Parameter> e : params.entrySet()) {
        // One sub-manager per parameter, closed before the next: the temporaries of a step never exceed three
        // copies of the largest parameter (a 0.5 B-parameter model's embedding alone is 544 MB).
        try (NDManager one = scratch.newSubManager()) {
          NDArray grad = PolicyModel.gradient(e.getValue(), one);
          if (grad == null) {
            continue;
          }
          NDArray w = e.getValue().getArray();
          if (c == null || c.type != w.getDataType()) {
            c = new Constants(scratch, w.getDataType(), biasCorrection1, biasCorrection2);
          }
          NDArray m = expAvg.get(e.getKey());
          NDArray v = expAvgSq.get(e.getKey());
          if (weightDecay != 0) {
            w.muli(c.decay); // p ← p · (1 − lr·λ)
          }
          m.muli(c.beta1).addi(grad.mul(c.oneMinusBeta1)); // m ← β1·m + (1 − β1)·g
          v.muli(c.beta2).addi(grad.square().muli(c.oneMinusBeta2)); // v ← β2·v + (1 − β2)·g²
          NDArray denom = scratch(v.sqrt(), one).divi(c.sqrtBiasCorrection2).addi(c.eps); // √v / √(1 − β2^t) + ε
          NDArray update = scratch(m.div(denom), one).muli(c.stepSize); // lr / (1 − β1^t) · m / denom
          w.subi(update);
        }
      }
    }
  }

  /** The scalars of one step, created once per element type in the step's scratch manager. */
  private final class Constants {
    final DataType type;
    final NDArray decay;
    final NDArray beta1;
    final NDArray oneMinusBeta1;
    final NDArray beta2;
    final NDArray oneMinusBeta2;
    final NDArray sqrtBiasCorrection2;
    final NDArray eps;
    final NDArray stepSize;

    Constants(NDManager scratch, DataType type, double biasCorrection1, double biasCorrection2) {
      this.type = type;
      decay = Scalars.of(scratch, 1 - learningRate * weightDecay, type);
      beta1 = Scalars.of(scratch, AdamW.this.beta1, type);
      oneMinusBeta1 = Scalars.of(scratch, 1 - AdamW.this.beta1, type);
      beta2 = Scalars.of(scratch, AdamW.this.beta2, type);
      oneMinusBeta2 = Scalars.of(scratch, 1 - AdamW.this.beta2, type);
      sqrtBiasCorrection2 = Scalars.of(scratch, Math.sqrt(biasCorrection2), type);
      eps = Scalars.of(scratch, AdamW.this.eps, type);
      stepSize = Scalars.of(scratch, learningRate / biasCorrection1, type);
    }
  }

  /** Moves a temporary created from a state array (which lands in the state manager) to the step's scratch manager. */
  private static NDArray scratch(NDArray temporary, NDManager scratch) {
    temporary.attach(scratch);
    return temporary;
  }

  /**
   * The optimizer state as a safetensors file: {@code exp_avg.<name>} and {@code exp_avg_sq.<name>}
   * for every managed parameter, and the step count and hyperparameters as metadata.
   *
   * @return the file's bytes
   */
  public byte[] saveState() {
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    for (String name : params.keySet()) {
      tensors.put("exp_avg." + name, expAvg.get(name));
      tensors.put("exp_avg_sq." + name, expAvgSq.get(name));
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("optimizer", "AdamW");
    metadata.put("step", Long.toString(step));
    metadata.put("beta1", Double.toString(beta1));
    metadata.put("beta2", Double.toString(beta2));
    metadata.put("eps", Double.toString(eps));
    metadata.put("weight_decay", Double.toString(weightDecay));
    metadata.put("lr", Double.toString(learningRate));
    return SafeTensors.write(tensors, metadata);
  }

  /**
   * Restores a state saved by {@link #saveState()} for the same model configuration, so training
   * continues exactly as if it had not stopped. The learning rate is restored too (a schedule may set
   * it again).
   *
   * @param bytes the file's bytes
   * @throws IllegalArgumentException when the state does not match this optimizer's parameters or
   *     hyperparameters
   */
  @SuppressWarnings("try") // the NoGrad guard is used for its scope only
  public void loadState(byte[] bytes) {
    try (NoGrad ignored = NoGrad.enter(); NDManager scratch = stateManager.newSubManager()) {
      SafeTensors.Content content = SafeTensors.read(bytes, scratch);
      Map<String, String> meta = content.metadata();
      if (!"AdamW".equals(meta.get("optimizer"))) {
        throw new IllegalArgumentException("not an AdamW state: " + meta);
      }
      checkSame("beta1", beta1, meta);
      checkSame("beta2", beta2, meta);
      checkSame("eps", eps, meta);
      checkSame("weight_decay", weightDecay, meta);
      if (content.tensors().size() != 2 * params.size()) {
        throw new IllegalArgumentException("optimizer state has " + content.tensors().size() + " tensors, expected " + 2 * params.size());
      }
      for (String name : params.keySet()) {
        copyState(content.tensors().get("exp_avg." + name), expAvg.get(name), "exp_avg." + name);
        copyState(content.tensors().get("exp_avg_sq." + name), expAvgSq.get(name), "exp_avg_sq." + name);
      }
      step = Long.parseLong(meta.get("step"));
      learningRate = Double.parseDouble(meta.get("lr"));
    }
  }

  private static void copyState(NDArray source, NDArray target, String name) {
    if (source == null) {
      throw new IllegalArgumentException("optimizer state lacks '" + name + "'");
    }
    if (!source.getShape().equals(target.getShape())) {
      throw new IllegalArgumentException("optimizer state '" + name + "' has shape " + source.getShape() + ", expected " + target.getShape());
    }
    target.set(new NDIndex(":"), source.toDevice(target.getDevice(), false).toType(target.getDataType(), false));
  }

  private static void checkSame(String key, double expected, Map<String, String> meta) {
    String saved = meta.get(key);
    if (saved == null || Double.parseDouble(saved) != expected) {
      throw new IllegalArgumentException("optimizer state has " + key + "=" + saved + ", this optimizer uses " + expected);
    }
  }

  /** Frees the moments. */
  @Override
  public void close() {
    stateManager.close();
  }

  /**
   * Builder: {@code setModel}, {@code setLearningRate} required; betas (0.9, 0.999), eps 1e-8 and weight
   * decay 0 (the ReFT setting) optional.
   */
  public static final class Builder {
    private PolicyModel model;
    private double learningRate = Double.NaN;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private double weightDecay = 0;

    private Builder() {}

    /** @param model the model whose trainable parameters this optimizer updates */
    public Builder setModel(PolicyModel model) {
      this.model = model;
      return this;
    }

    /** @param learningRate the initial learning rate */
    public Builder setLearningRate(double learningRate) {
      this.learningRate = learningRate;
      return this;
    }

    /** @param beta1 decay of the first moment */
    public Builder optBeta1(double beta1) {
      this.beta1 = beta1;
      return this;
    }

    /** @param beta2 decay of the second moment */
    public Builder optBeta2(double beta2) {
      this.beta2 = beta2;
      return this;
    }

    /** @param eps added to the denominator */
    public Builder optEps(double eps) {
      this.eps = eps;
      return this;
    }

    /** @param weightDecay decoupled weight decay λ (ReFT: 0) */
    public Builder optWeightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    /** @return the optimizer, with zero moments */
    public AdamW build() {
      if (model == null) {
        throw new IllegalArgumentException("AdamW: setModel is required");
      }
      if (model.isFrozen()) {
        throw new IllegalArgumentException("AdamW: the model is frozen");
      }
      if (!(learningRate >= 0)) {
        throw new IllegalArgumentException("AdamW: setLearningRate(>= 0) is required, got " + learningRate);
      }
      if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
        throw new IllegalArgumentException("AdamW: betas must be in [0, 1): " + beta1 + ", " + beta2);
      }
      if (!(eps > 0) || !(weightDecay >= 0)) {
        throw new IllegalArgumentException("AdamW: eps must be > 0 and weight decay >= 0: " + eps + ", " + weightDecay);
      }
      return new AdamW(this);
    }
  }
}
