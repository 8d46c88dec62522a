package dev.reft.policy;

import ai.djl.ndarray.NDArray;

/**
 * The training forward's result. Both arrays belong to the manager of the input tokens.
 *
 * <p>Shapes: B batch, T time, V vocabulary. Position t of {@code logits} scores the token at t + 1
 * (use {@link TokenLogProbs#nextTokenLogProbs}); {@code values} is the value head's estimate at t.
 *
 * @param logits unnormalised next-token scores (B, T, V)
 * @param values scalar value estimates (B, T)
 */
public record ForwardOutput(NDArray logits, NDArray values) {}
