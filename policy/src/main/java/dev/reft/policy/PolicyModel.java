package dev.reft.policy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.reft.policy.nn.LlamaDecoder;
import dev.reft.policy.sampling.Rng;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The trainable policy: a {@link LlamaDecoder} with its parameters on one device, and everything the
 * learner and the sampler need around it.
 *
 * <p>Memory discipline: the parameters live in this model's {@link #manager()}. Every batch runs in its
 * own sub-manager, {@code try (NDManager batch = model.newBatchManager()) { ... }}; inputs created in it
 * make every intermediate and result attach to it (DJL attaches an op's result to its first operand's
 * manager), so closing it frees the step.
 *
 * <p>Training step, as the learner runs it:
 *
 * <pre>{@code
 * try (NDManager batch = model.newBatchManager();
 *     GradientCollector collector = model.newGradientCollector()) {
 *   ForwardOutput out = model.forward(tokens, mask);           // tokens, mask created in batch
 *   NDArray loss = ...;                                         // constants via Scalars, never x.mul(2f)
 *   collector.backward(loss);
 * }
 * GradientClipping.clipGlobalNorm(model, 1.0);
 * optimizer.step();
 * model.zeroGradients();
 * }</pre>
 *
 * <p>Only one {@link GradientCollector} may be open per process (a DJL restriction). Inference (sampling,
 * the frozen reference policy) is safe from several threads at once; training mutates the weights and
 * must not overlap with other use of the same model.
 */
public final class PolicyModel implements AutoCloseable {

  private final ModelConfig config;
  private final NDManager manager;
  private final LlamaDecoder decoder;
  private final DataType dataType;
  private volatile boolean frozen;

  private PolicyModel(ModelConfig config, NDManager manager, LlamaDecoder decoder, DataType dataType) {
    this.config = config;
    this.manager = manager;
    this.decoder = decoder;
    this.dataType = dataType;
  }

  /**
   * A freshly initialised fp32 model on the configured device ({@link PolicyRuntime#defaultDevice()}: {@code
   * reft.policy.device}, by default a GPU when available, else the CPU).
   *
   * @param config the shape
   * @param seed the initialisation seed: the same seed gives the same weights on any machine
   * @return the model
   */
  public static PolicyModel create(ModelConfig config, long seed) {
    return create(config, seed, PolicyRuntime.defaultDevice(), DataType.FLOAT32);
  }

  /**
   * A freshly initialised model: projections and embeddings N(0, initStd²) drawn from the project's
   * {@link Rng} (one stream per parameter name), RMSNorm weights 1, biases 0.
   *
   * @param config the shape
   * @param seed the initialisation seed
   * @param device where the parameters live
   * @param dataType FLOAT32 (or FLOAT64 for gradient checks); reduced precision only on a GPU
   * @return the model
   */
  public static PolicyModel create(ModelConfig config, long seed, Device device, DataType dataType) {
    try (Loader loader = loader(config, device, dataType)) {
      for (String name : loader.parameters.keySet()) {
        loader.initialise(name, seed);
      }
      return loader.finish();
    }
  }

  /**
   * A model with the given weights (checkpoint loading).
   *
   * @param config the shape
   * @param weights every parameter by its Hugging Face name (see {@link #loadWeights})
   * @param device where the parameters live
   * @param dataType the parameters' element type
   * @return the model
   */
  public static PolicyModel withWeights(ModelConfig config, Map<String, NDArray> weights, Device device, DataType dataType) {
    try (Loader loader = loader(config, device, dataType)) {
      for (Map.Entry<String, NDArray> e : weights.entrySet()) {
        loader.put(e.getKey(), e.getValue());
      }
      return loader.finish();
    }
  }

  /**
   * Starts a model whose weights arrive one tensor at a time (streamed from safetensors files), so that
   * loading never holds a second full copy of the weights: read a tensor, {@link Loader#put} it, drop it.
   *
   * @param config the shape
   * @param device where the parameters live
   * @param dataType the parameters' element type
   * @return the loader; {@link Loader#finish()} returns the model, closing the loader before that frees it
   */
  public static Loader loader(ModelConfig config, Device device, DataType dataType) {
    return new Loader(allocate(config, device, dataType));
  }

  /**
   * Fills a new model's parameters by name: each one {@linkplain #put copied} from an array or {@linkplain
   * #initialise initialised} as {@link PolicyModel#create} does. {@link #finish()} checks that every
   * parameter was filled (the value head's bias may be left out: it is then 0, as checkpoints written before
   * it existed need) and hands the model over.
   */
  public static final class Loader implements AutoCloseable {
    private final PolicyModel model;
    private final Map<String, Parameter> parameters;
    private final Set<String> filled = new HashSet<>();
    private boolean finished;

    private Loader(PolicyModel model) {
      this.model = model;
      this.parameters = model.namedParameters();
    }

    /** @return the configuration of the model being filled */
    public ModelConfig config() {
      return model.config;
    }

    /**
     * @param name a Hugging Face parameter name
     * @return whether the model has a parameter of that name
     */
    public boolean expects(String name) {
      return parameters.containsKey(name);
    }

    /**
     * @param name a parameter name
     * @return its shape
     * @throws IllegalArgumentException for an unknown name
     */
    public Shape shapeOf(String name) {
      return parameter(name).getShape();
    }

    /** @return the names not filled yet, in the model's order */
    public List<String> missing() {
      List<String> out = new ArrayList<>();
      for (String name : parameters.keySet()) {
        if (!filled.contains(name)) {
          out.add(name);
        }
      }
      return out;
    }

    /**
     * Copies one weight into its parameter (converted to the model's device and type; conversions attach to
     * the value's manager).
     *
     * @param name the parameter's Hugging Face name
     * @param value an array of exactly the parameter's shape
     * @throws IllegalArgumentException for an unknown name, a name given twice, or another shape (naming
     *     the tensor and both shapes)
     */
    @SuppressWarnings("try") // the NoGrad guard is used for its scope only
    public void put(String name, NDArray value) {
      Parameter p = parameter(name);
      if (!value.getShape().equals(p.getShape())) {
        throw new IllegalArgumentException("weight '" + name + "' has shape " + value.getShape() + ", the model expects " + p.getShape());
      }
      if (!filled.add(name)) {
        throw new IllegalArgumentException("weight '" + name + "' given twice");
      }
      try (NoGrad ignored = NoGrad.enter()) {
        copyInto(p.getArray(), value.toDevice(model.device(), false).toType(model.dataType, false));
      }
    }

    /**
     * Initialises one parameter as {@link PolicyModel#create} would with this seed: N(0, initStd²) from the
     * stream {@code Rng.stream(seed, hash(name))} for weights and embeddings, 1 for RMSNorm weights, 0 for
     * biases.
     *
     * @param name the parameter's name
     * @param seed the initialisation seed
     */
    @SuppressWarnings("try") // the NoGrad guard is used for its scope only
    public void initialise(String name, long seed) {
      Parameter p = parameter(name);
      if (!filled.add(name)) {
        throw new IllegalArgumentException("weight '" + name + "' given twice");
      }
      try (NoGrad ignored = NoGrad.enter(); NDManager scratch = model.manager.newSubManager()) {
        NDArray array = p.getArray();
        if (p.getType() == Parameter.Type.GAMMA) {
          array.set(new NDIndex(":"), 1f);
        } else if (p.getType() == Parameter.Type.BIAS) {
          array.set(new NDIndex(":"), 0f);
        } else {
          Shape shape = p.getShape();
          float[] values = new float[Math.toIntExact(shape.size())];
          Rng rng = Rng.stream(seed, nameHash(name));
          for (int i = 0; i < values.length; i++) {
            values[i] = (float) (rng.nextGaussian() * model.config.initStd());
          }
          copyInto(array, scratch.create(values, shape));
        }
      }
    }

    /**
     * @return the filled model (the caller owns it)
     * @throws IllegalArgumentException naming the first parameter never filled
     */
    @SuppressWarnings("try") // the NoGrad guard is used for its scope only
    public PolicyModel finish() {
      for (String name : missing()) {
        if (name.equals(LlamaDecoder.VALUE_HEAD_BIAS)) {
          try (NoGrad ignored = NoGrad.enter()) {
            parameters.get(name).getArray().set(new NDIndex(":"), 0f);
          }
          continue;
        }
        throw new IllegalArgumentException("missing weight '" + name + "'");
      }
      finished = true;
      return model;
    }

    private Parameter parameter(String name) {
      Parameter p = parameters.get(name);
      if (p == null) {
        throw new IllegalArgumentException("unexpected weight '" + name + "' for config " + model.config);
      }
      return p;
    }

    /** Frees the model unless {@link #finish()} handed it over. */
    @Override
    public void close() {
      if (!finished) {
        model.close();
      }
    }
  }

  /**
   * A model with the given shape whose weights are still DJL's default random initialisation, to be
   * overwritten.
   */
  private static PolicyModel allocate(ModelConfig config, Device device, DataType dataType) {
    if (dataType != DataType.FLOAT32 && dataType != DataType.FLOAT64 && !device.isGpu()) {
      throw new IllegalArgumentException(
          dataType + " on the CPU is not supported: BFLOAT16 crashes the JVM and FLOAT16 is ~100x slower with DJL 0.36; use FLOAT32");
    }
    LlamaDecoder decoder = LlamaDecoder.builder().setConfig(config).build();
    NDManager manager = PolicyRuntime.engine().newBaseManager(device);
    try {
      decoder.initialize(manager, dataType, new Shape(1, 1), new Shape(1, 1));
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
    return new PolicyModel(config, manager, decoder, dataType);
  }

  /** @return the shape of the network */
  public ModelConfig config() {
    return config;
  }

  /** @return the network block */
  public LlamaDecoder decoder() {
    return decoder;
  }

  /** @return where the parameters live */
  public Device device() {
    return manager.getDevice();
  }

  /** @return the parameters' element type */
  public DataType dataType() {
    return dataType;
  }

  /** @return the manager that owns the parameters; create per-batch sub-managers from it */
  public NDManager manager() {
    return manager;
  }

  /** @return a new sub-manager for one batch; close it when the batch is done */
  public NDManager newBatchManager() {
    return manager.newSubManager();
  }

  /**
   * Every parameter under its Hugging Face Llama name ({@code model.layers.0.self_attn.q_proj.weight},
   * ..., {@code v_head.weight}).
   *
   * @return an unmodifiable ordered map
   */
  public Map<String, Parameter> namedParameters() {
    return decoder.namedParameters();
  }

  /** @return the number of scalar parameters */
  public long parameterCount() {
    long n = 0;
    for (Parameter p : namedParameters().values()) {
      n += p.getShape().size();
    }
    return n;
  }

  /**
   * The training forward (see {@link LlamaDecoder#forward}). Inside a {@link GradientCollector} it
   * records the graph for {@code backward}; outside one it is plain inference.
   *
   * @param tokens (B, T) token ids, created in the batch's manager
   * @param attentionMask (B, T): 1 for real tokens, 0 for padding
   * @return logits (B, T, V) and values (B, T), attached to {@code tokens}' manager
   */
  public ForwardOutput forward(NDArray tokens, NDArray attentionMask) {
    return decoder.forward(tokens, attentionMask, false);
  }

  /**
   * The training forward with the value head's input cut from the graph: the value loss then trains only
   * the head, never the shared backbone (see {@link LlamaDecoder#forward(NDArray, NDArray, boolean)}).
   */
  public ForwardOutput forwardDetachedValue(NDArray tokens, NDArray attentionMask) {
    return decoder.forward(tokens, attentionMask, true);
  }

  /**
   * Opens DJL's gradient collector (records autograd on this thread until closed). Only one may be open
   * in the process at a time.
   *
   * @return the collector; call {@code backward(loss)} on it, then close it
   */
  public GradientCollector newGradientCollector() {
    if (frozen) {
      throw new IllegalStateException("this model is frozen; it has no gradients to collect");
    }
    return PolicyRuntime.engine().newGradientCollector();
  }

  /** Sets every accumulated gradient to zero (gradients accumulate across backward passes). */
  public void zeroGradients() {
    for (Parameter p : namedParameters().values()) {
      JniUtils.zeroGrad((PtNDArray) p.getArray());
    }
  }

  /**
   * The accumulated gradient of a parameter, or null when no backward pass has reached it since it was
   * created (a parameter the loss did not depend on).
   *
   * @param parameter one of {@link #namedParameters()}
   * @param owner the manager the returned handle is attached to (close it to release the handle; the
   *     gradient itself stays with the parameter)
   * @return a handle to the gradient (same shape as the parameter) or null
   */
  public static NDArray gradient(Parameter parameter, NDManager owner) {
    PtNDArray grad = JniUtils.getGradient((PtNDArray) parameter.getArray());
    if (grad != null) {
      grad.attach(owner);
    }
    return grad;
  }

  /**
   * Stops gradient tracking for every parameter: the model becomes a fixed function (the frozen
   * reference policy). Irreversible for this instance.
   */
  public void freeze() {
    for (Parameter p : namedParameters().values()) {
      p.freeze(true);
    }
    frozen = true;
  }

  /** @return whether {@link #freeze()} was called */
  public boolean isFrozen() {
    return frozen;
  }

  /**
   * A deep copy on the same device with the same weights; trainable unless this model is frozen.
   *
   * @return the copy (close it independently)
   */
  public PolicyModel copy() {
    PolicyModel copy = allocate(config, device(), dataType);
    copy.copyWeightsFrom(this);
    if (frozen) {
      copy.freeze();
    }
    return copy;
  }

  /**
   * A frozen deep copy: the reference policy for the KL penalty, taken from the warm-up checkpoint.
   *
   * @return the frozen copy
   */
  public PolicyModel frozenCopy() {
    PolicyModel copy = copy();
    copy.freeze();
    return copy;
  }

  /**
   * Overwrites every weight with another model's (e.g. to refresh a sampler's policy in place).
   *
   * @param other a model with the same configuration, on any device
   */
  @SuppressWarnings("try") // the NoGrad guard is used for its scope only
  public void copyWeightsFrom(PolicyModel other) {
    if (!other.config.equals(config)) {
      throw new IllegalArgumentException("cannot copy weights between different configurations: " + other.config + " vs " + config);
    }
    Map<String, Parameter> source = other.namedParameters();
    try (NoGrad ignored = NoGrad.enter(); NDManager scratch = manager.newSubManager()) {
      for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
        NDArray src = source.get(e.getKey()).getArray();
        if (!src.getDevice().equals(device())) {
          src = src.toDevice(device(), true);
          src.attach(scratch); // the device copy goes away with the scratch manager
        }
        copyInto(e.getValue().getArray(), src);
      }
    }
  }

  /**
   * Overwrites the weights from named arrays (checkpoint loading). Every parameter must be present
   * with its exact shape, and no unknown name may appear — except the value head's bias, which
   * checkpoints written before it existed lack: it is then 0, as in a fresh model.
   *
   * @param weights Hugging Face name → array (any device and float type; conversions are attached to
   *     the arrays' own manager)
   */
  @SuppressWarnings("try") // the NoGrad guard is used for its scope only
  public void loadWeights(Map<String, NDArray> weights) {
    Map<String, Parameter> params = namedParameters();
    for (String name : weights.keySet()) {
      if (!params.containsKey(name)) {
        throw new IllegalArgumentException("unexpected weight '" + name + "' for config " + config);
      }
    }
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      NDArray value = weights.get(e.getKey());
      if (value == null && !e.getKey().equals(LlamaDecoder.VALUE_HEAD_BIAS)) {
        throw new IllegalArgumentException("missing weight '" + e.getKey() + "'");
      }
      if (value != null && !value.getShape().equals(e.getValue().getShape())) {
        throw new IllegalArgumentException(
            "weight '" + e.getKey() + "' has shape " + value.getShape() + ", the model expects " + e.getValue().getShape());
      }
    }
    try (NoGrad ignored = NoGrad.enter()) {
      for (Map.Entry<String, Parameter> e : params.entrySet()) {
        NDArray value = weights.get(e.getKey());
        if (value == null) {
          e.getValue().getArray().set(new NDIndex(":"), 0f);
        } else {
          copyInto(e.getValue().getArray(), value.toDevice(device(), false).toType(dataType, false));
        }
      }
    }
  }

  /** In-place native copy (the parameter keeps its PyTorch-owned storage). Call under {@link NoGrad}. */
  private static void copyInto(NDArray destination, NDArray source) {
    destination.set(new NDIndex(":"), source);
  }

  private static long nameHash(String name) {
    long h = 1125899906842597L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h = 31 * h + b;
    }
    return h;
  }

  /** @return a one-line description for start-up logs */
  public String describe() {
    return String.format(
        "policy %d layers, dim %d, heads %d/%d, mlp %d, vocab %d, maxSeqLen %d, tied=%s, %,d params, %s %s",
        config.layers(), config.dim(), config.heads(), config.kvHeads(), config.hiddenDim(), config.vocabSize(),
        config.maxSeqLen(), config.tieEmbeddings(), parameterCount(), dataType, device());
  }

  /** Frees the parameters and everything still attached to this model's manager. */
  @Override
  public void close() {
    manager.close();
  }
}
