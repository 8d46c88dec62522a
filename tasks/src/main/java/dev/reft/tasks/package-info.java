/**
 * The math tasks of ReFT: data sets ({@link dev.reft.tasks.Datasets}), problems ({@link dev.reft.tasks.Problem}),
 * the prompt and target formats ({@link dev.reft.tasks.Prompts}), answer extraction ({@link dev.reft.tasks.Answers})
 * and the reward rule ({@link dev.reft.tasks.Grader}). P-CoT programs run in {@link dev.reft.tasks.sandbox}; the
 * built-in synthetic task is in {@link dev.reft.tasks.synthetic}. No DJL, no Kafka.
 */
package dev.reft.tasks;
