package dev.reft.policy.sampling;

/** Why a sampled response ended. */
public enum FinishReason {
  /** The model emitted the end-of-sequence token (included as the response's last token). */
  EOS,
  /** The response reached the maximum number of new tokens, or the model's maximum sequence length. */
  LENGTH
}
