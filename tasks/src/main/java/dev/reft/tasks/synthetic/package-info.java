/**
 * The built-in synthetic task, the embedded default's data: {@link dev.reft.tasks.synthetic.SyntheticTask}
 * generates seeded word problems from a {@link dev.reft.tasks.synthetic.SyntheticConfig} into
 * {@link dev.reft.tasks.synthetic.SyntheticData} (train, test and a harder test slice).
 */
package dev.reft.tasks.synthetic;
