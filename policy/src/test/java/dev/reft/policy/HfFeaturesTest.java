package dev.reft.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.reft.policy.nn.CausalSelfAttention;
import dev.reft.policy.nn.RotaryEmbedding;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What real Hugging Face checkpoints need of the network: projection biases, grouped-query attention,
 * {@code llama3} rope scaling, and their {@code config.json} keys.
 */
class HfFeaturesTest {

  static final int VOCAB = 40;

  /** A Qwen2-layout model: q/k/v biases, 8 query heads over 2 key/value heads, tied, θ = 1e6, llama3 scaling. */
  static ModelConfig qwenLike() {
    return new ModelConfig(VOCAB, 32, 2, 8, 2, 48, 64, true, 0.3f, 1e6f, 1e-6f, Architecture.QWEN2, true,
        new ModelConfig.RopeScaling(8, 1, 4, 16), 128);
  }

  /** The model with every bias drawn at random too (a fresh model's biases are 0 and would test nothing). */
  static PolicyModel withRandomBiases(ModelConfig config, long seed) {
    try (PolicyModel.Loader loader = PolicyModel.loader(config, Device.cpu(), DataType.FLOAT32);
        NDManager scratch = PolicyRuntime.engine().newBaseManager(Device.cpu())) {
      Random random = new Random(seed);
      for (String name : loader.missing()) {
        if (name.endsWith("_proj.bias")) {
          Shape shape = loader.shapeOf(name);
          float[] values = new float[(int) shape.size()];
          for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian() * 0.5f;
          }
          loader.put(name, scratch.create(values, shape));
        } else {
          loader.initialise(name, seed);
        }
      }
      return loader.finish();
    }
  }

  @Test
  void biasesAppearUnderHuggingFaceNamesAsEachArchitectureHasThem() {
    ModelConfig qwen = qwenLike();
    ModelConfig llamaBias = qwen.withArchitecture(Architecture.LLAMA, true);
    ModelConfig llama = qwen.withArchitecture(Architecture.LLAMA, false);
    try (PolicyModel q = PolicyModel.create(qwen, 1); PolicyModel lb = PolicyModel.create(llamaBias, 1);
        PolicyModel l = PolicyModel.create(llama, 1)) {
      Map<String, Parameter> p = q.namedParameters();
      assertThat(p.get("model.layers.1.self_attn.q_proj.bias").getShape()).isEqualTo(new Shape(32));
      assertThat(p.get("model.layers.1.self_attn.k_proj.bias").getShape()).isEqualTo(new Shape(8)); // 2 kv heads × 4
      assertThat(p.get("model.layers.1.self_attn.v_proj.bias").getShape()).isEqualTo(new Shape(8));
      assertThat(p).doesNotContainKey("model.layers.1.self_attn.o_proj.bias").doesNotContainKey("lm_head.weight");
      assertThat(lb.namedParameters().get("model.layers.0.self_attn.o_proj.bias").getShape()).isEqualTo(new Shape(32));
      assertThat(l.namedParameters().keySet()).noneMatch(n -> n.endsWith("_proj.bias"));
      for (PolicyModel m : List.of(q, lb, l)) {
        assertThat(m.parameterCount()).isEqualTo(m.config().parameterCount());
      }
      assertThat(q.parameterCount() - l.parameterCount()).isEqualTo(2L * (32 + 8 + 8));
      assertThat(lb.parameterCount() - q.parameterCount()).isEqualTo(2L * 32);
    }
  }

  /**
   * With q, k and v weights zero, every attention weight is uniform and the context is v_proj.bias of the
   * key/value head serving each query head; the output is o_proj of that plus o_proj.bias. This pins the bias
   * arithmetic and Hugging Face's grouping (query head h reads key/value head h / (H / Hkv)).
   */
  @Test
  void biasesAndGroupingFollowHuggingFace() {
    int dim = 16;
    int heads = 4;
    int kvHeads = 2;
    int d = dim / heads;
    CausalSelfAttention attn = CausalSelfAttention.builder().setDim(dim).setHeads(heads).optKvHeads(kvHeads).optBias(true, true).build();
    try (NDManager m = PolicyRuntime.engine().newBaseManager(Device.cpu())) {
      attn.initialize(m, DataType.FLOAT32, new Shape(1, 3, dim));
      Random random = new Random(3);
      float[] vBias = gaussian(random, kvHeads * d);
      float[] oBias = gaussian(random, dim);
      float[] oProj = gaussian(random, dim * dim);
      try (NoGrad ignored = NoGrad.enter()) {
        attn.qProj().getArray().set(new NDIndex(":"), 0f);
        attn.kProj().getArray().set(new NDIndex(":"), 0f);
        attn.vProj().getArray().set(new NDIndex(":"), 0f);
        attn.qBias().getArray().set(new NDIndex(":"), m.create(gaussian(random, dim)));
        attn.kBias().getArray().set(new NDIndex(":"), m.create(gaussian(random, kvHeads * d)));
        attn.vBias().getArray().set(new NDIndex(":"), m.create(vBias));
        attn.oProj().getArray().set(new NDIndex(":"), m.create(oProj, new Shape(dim, dim)));
        attn.oBias().getArray().set(new NDIndex(":"), m.create(oBias));
      }
      NDArray x = m.create(gaussian(random, 3 * dim), new Shape(1, 3, dim));
      RotaryEmbedding rope = new RotaryEmbedding(m, d, 8, 10_000, null, DataType.FLOAT32);
      NDArray[] cosSin = rope.lookup(m.create(new long[] {0, 1, 2}, new Shape(1, 3)));
      NDArray mask = m.zeros(new Shape(1, 1, 3, 3));
      float[] out = attn.forward(x, cosSin[0], cosSin[1], mask, null, 0).toFloatArray();
      float[] context = new float[dim]; // head h: v bias of kv head h / 2
      for (int h = 0; h < heads; h++) {
        System.arraycopy(vBias, (h / (heads / kvHeads)) * d, context, h * d, d);
      }
      for (int t = 0; t < 3; t++) {
        for (int i = 0; i < dim; i++) {
          double expected = oBias[i];
          for (int j = 0; j < dim; j++) {
            expected += oProj[i * dim + j] * context[j];
          }
          assertThat((double) out[t * dim + i]).as("t %d, i %d", t, i).isCloseTo(expected, within(1e-5));
        }
      }
    }
  }

  @Test
  void aBiasedGroupedScaledModelSamplesWithTheCacheAsItComputesWithout() {
    try (PolicyModel model = withRandomBiases(qwenLike(), 5)) {
      List<int[]> prompts = TestModels.randomSequences(2, 3, 3, 8, 2, VOCAB);
      List<Sample> cached = new Sampler(model, 1, 0).greedy(prompts, 12);
      for (int r = 0; r < prompts.size(); r++) {
        int[] seq = prompts.get(r);
        for (int s = 0; s < cached.get(r).length(); s++) {
          try (NDManager batch = model.newBatchManager()) {
            TokenBatch b = TokenBatch.rightPadded(batch, List.of(seq), 0);
            NDArray last = TokenLogProbs.logSoftmax(model.forward(b.tokens(), b.attentionMask()).logits()).get(new NDIndex("0, -1, :"));
            int argmax = (int) last.argMax().getLong();
            assertThat(cached.get(r).tokens()[s]).as("row %d step %d", r, s).isEqualTo(argmax);
            assertThat((double) cached.get(r).logProbs()[s]).isCloseTo(last.getFloat(argmax), within(1e-4));
          }
          seq = TestModels.concat(seq, new int[] {cached.get(r).tokens()[s]});
        }
      }
    }
  }

  @Test
  void theBiasesChangeTheOutput() {
    try (PolicyModel biased = withRandomBiases(qwenLike(), 5); PolicyModel zero = PolicyModel.create(qwenLike(), 5);
        NDManager batch = biased.newBatchManager()) {
      TokenBatch b = TokenBatch.rightPadded(batch, List.of(new int[] {3, 4, 5, 6}), 0);
      float[] withBias = biased.forward(b.tokens(), b.attentionMask()).logits().toFloatArray();
      float[] without = zero.forward(b.tokens(), b.attentionMask()).logits().toFloatArray();
      assertThat(withBias).isNotEqualTo(without);
    }
  }

  /** Reference values: Hugging Face's {@code _compute_llama3_parameters} run in numpy (head dim 64, θ 500,000, Llama 3.1's scaling). */
  @Test
  void llama3RopeScalingMatchesHuggingFace() {
    ModelConfig.RopeScaling llama31 = new ModelConfig.RopeScaling(8, 1, 4, 8192);
    double[] plain = RotaryEmbedding.inverseFrequencies(64, 500_000, null);
    double[] scaled = RotaryEmbedding.inverseFrequencies(64, 500_000, llama31);
    assertThat(plain[5]).isCloseTo(0.12868737343265052, within(1e-15));
    assertThat(scaled[5]).as("high frequency: unchanged").isEqualTo(plain[5]);
    assertThat(plain[15]).isCloseTo(0.0021311195369119653, within(1e-15));
    assertThat(scaled[15]).as("medium: interpolated").isCloseTo(0.0013718935677611381, within(1e-15));
    assertThat(scaled[20]).as("low: divided by the factor").isCloseTo(3.428102195952591e-05, within(1e-17));
    assertThat(scaled[31]).isCloseTo(3.7673226901739645e-07, within(1e-19));
  }

  /** Qwen2.5-0.5B's config.json as published. */
  static final String QWEN25_05B = """
      {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643,
       "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
       "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14,
       "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
       "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.40.1",
       "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}
      """;

  @Test
  void readsQwenAndLlamaConfigsAndWritesThemBack() {
    ModelConfig qwen = ModelConfig.fromJson(QWEN25_05B);
    assertThat(qwen).isEqualTo(new ModelConfig(151936, 896, 24, 14, 2, 4864, 32768, true, 0.02f, 1e6f, 1e-6f,
        Architecture.QWEN2, true, null, 32768));
    assertThat(qwen.parameterCount()).as("Qwen2.5-0.5B's 494,032,768 plus the value head").isEqualTo(494_032_768L + 897);
    ModelConfig window = qwen.withMaxSeqLen(2048);
    assertThat(window.maxPositionEmbeddings()).isEqualTo(32768);
    assertThat(ModelConfig.fromJson(window.toJson(1, 2, 3))).isEqualTo(window);
    assertThat(window.toJson(1, 2, 3)).contains("\"Qwen2ForCausalLM\"").contains("\"max_position_embeddings\" : 32768")
        .contains("\"reft_max_seq_len\" : 2048").contains("\"use_sliding_window\" : false");

    String llama32 = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048, "num_attention_heads": 32,
         "num_key_value_heads": 8, "num_hidden_layers": 16, "intermediate_size": 8192, "vocab_size": 128256,
         "max_position_embeddings": 131072, "rope_theta": 500000.0, "rms_norm_eps": 1e-05, "tie_word_embeddings": true,
         "attention_bias": false, "mlp_bias": false, "head_dim": 64, "hidden_act": "silu",
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
           "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
        """;
    ModelConfig llama = ModelConfig.fromJson(llama32);
    assertThat(llama.ropeScaling()).isEqualTo(new ModelConfig.RopeScaling(32, 1, 4, 8192));
    assertThat(llama.architecture()).isEqualTo(Architecture.LLAMA);
    assertThat(llama.attentionBias()).isFalse();
    assertThat(ModelConfig.fromJson(llama.toJson(0, 1, 1))).isEqualTo(llama);

    ModelConfig mistral = ModelConfig.fromJson(llama32.replace("LlamaForCausalLM", "MistralForCausalLM")
        .replace("\"rope_scaling\"", "\"sliding_window\": 4096, \"ignored\""));
    assertThat(mistral.architecture()).isEqualTo(Architecture.MISTRAL);
    assertThat(mistral.maxSeqLen()).as("limited to the sliding window").isEqualTo(4096);
    assertThat(mistral.maxPositionEmbeddings()).isEqualTo(131072);

    ModelConfig own = ModelConfig.tiny(100);
    assertThat(ModelConfig.fromJson(own.toJson(0, 1, 2))).isEqualTo(own);
    assertThat(own.toJson(0, 1, 2)).doesNotContain("reft_max_seq_len").doesNotContain("rope_scaling");
  }

  @Test
  void refusesWhatTheNetworkWouldComputeDifferently() {
    assertThatThrownBy(() -> ModelConfig.fromJson(QWEN25_05B.replace("Qwen2ForCausalLM", "GPT2LMHeadModel")))
        .hasMessageContaining("architectures").hasMessageContaining("GPT2LMHeadModel")
        .hasMessageContaining("LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM");
    assertThatThrownBy(() -> ModelConfig.fromJson(QWEN25_05B.replace("\"silu\"", "\"gelu\""))).hasMessageContaining("hidden_act");
    assertThatThrownBy(() -> ModelConfig.fromJson(QWEN25_05B.replace("\"use_sliding_window\": false", "\"use_sliding_window\": true")))
        .hasMessageContaining("use_sliding_window");
    assertThatThrownBy(() -> ModelConfig.fromJson(QWEN25_05B.replace("\"use_cache\": true", "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4}")))
        .hasMessageContaining("yarn").hasMessageContaining("llama3");
    assertThatThrownBy(() -> ModelConfig.fromJson(QWEN25_05B.replace("\"use_cache\": true", "\"head_dim\": 128")))
        .hasMessageContaining("head_dim");
    assertThatThrownBy(() -> ModelConfig.fromJson(QWEN25_05B.replace("\"use_cache\": true", "\"mlp_bias\": true")))
        .hasMessageContaining("mlp_bias");
  }

  private static float[] gaussian(Random random, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) random.nextGaussian();
    }
    return out;
  }
}
