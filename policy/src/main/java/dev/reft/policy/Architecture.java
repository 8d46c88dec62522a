package dev.reft.policy;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The Hugging Face model families whose checkpoints the policy network computes exactly. All three are
 * the same pre-norm decoder (RMSNorm, rotary embeddings in the rotate-half layout, grouped-query
 * attention, SwiGLU MLP); they differ in the attention projections' biases:
 *
 * <ul>
 *   <li>{@link #LLAMA} ({@code LlamaForCausalLM}): {@code attention_bias} (default false) puts a bias on
 *       all four projections q, k, v and o;
 *   <li>{@link #QWEN2} ({@code Qwen2ForCausalLM}): q, k and v always have a bias, o never;
 *   <li>{@link #MISTRAL} ({@code MistralForCausalLM}): no biases (its sliding window is not modelled: an
 *       import limits the sequence length to the window instead, within which attention is identical).
 * </ul>
 */
public enum Architecture {
  /** Llama 1 / 2 / 3, SmolLM, TinyLlama, ... */
  LLAMA("LlamaForCausalLM", "llama"),
  /** Qwen2, Qwen2.5. */
  QWEN2("Qwen2ForCausalLM", "qwen2"),
  /** Mistral. */
  MISTRAL("MistralForCausalLM", "mistral");

  private final String hfClass;
  private final String modelType;

  Architecture(String hfClass, String modelType) {
    this.hfClass = hfClass;
    this.modelType = modelType;
  }

  /** @return the Hugging Face class name written to {@code architectures} */
  public String hfClass() {
    return hfClass;
  }

  /** @return the {@code model_type} of the Hugging Face config */
  public String modelType() {
    return modelType;
  }

  /**
   * Whether the output projection {@code o_proj} has a bias, given the config's attention-bias flag.
   *
   * @param attentionBias whether q, k and v have biases
   * @return true only for Llama with {@code attention_bias}
   */
  public boolean outputBias(boolean attentionBias) {
    return this == LLAMA && attentionBias;
  }

  /** @return "LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM" */
  public static String supported() {
    return Arrays.stream(values()).map(Architecture::hfClass).collect(Collectors.joining(", "));
  }

  /**
   * The architecture of a Hugging Face class name ({@code architectures[0]}).
   *
   * @param hfClass e.g. {@code Qwen2ForCausalLM}
   * @return the architecture
   * @throws IllegalArgumentException naming the field and listing the supported classes
   */
  public static Architecture ofHfClass(String hfClass) {
    for (Architecture a : values()) {
      if (a.hfClass.equals(hfClass)) {
        return a;
      }
    }
    throw new IllegalArgumentException(
        "config.json: architectures[0] is '" + hfClass + "', which is not supported (supported: " + supported() + ")");
  }

  /**
   * The architecture of a {@code model_type}.
   *
   * @param modelType e.g. {@code qwen2}
   * @return the architecture
   * @throws IllegalArgumentException naming the field and listing the supported types
   */
  public static Architecture ofModelType(String modelType) {
    for (Architecture a : values()) {
      if (a.modelType.equals(modelType.toLowerCase(Locale.ROOT))) {
        return a;
      }
    }
    throw new IllegalArgumentException("config.json: model_type is '" + modelType + "', which is not supported (supported: "
        + Arrays.stream(values()).map(Architecture::modelType).collect(Collectors.joining(", ")) + ")");
  }
}
