package dev.reft.cli.demo;

import picocli.CommandLine.Option;

/** The options {@code reft demo} and {@code reft paper-table} share: what to run, and on which cluster. */
final class RunOptions {

  @Option(names = "--preset", defaultValue = "default", description = "quick or default (default: ${DEFAULT-VALUE}).")
  String preset;

  @Option(names = "--style", defaultValue = "ncot", description = "ncot or pcot (P-CoT runs the sandbox) (default: ${DEFAULT-VALUE}).")
  String style;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the model, the data order and sampling (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--bootstrap", description = "Use this Kafka cluster instead of starting a local broker.")
  String bootstrap;
}
