package dev.reft.cli.data;

import dev.reft.schemas.CotStyle;
import dev.reft.tasks.Datasets;
import dev.reft.tasks.synthetic.SyntheticConfig;
import dev.reft.tasks.synthetic.SyntheticData;
import dev.reft.tasks.synthetic.SyntheticProblem;
import dev.reft.tasks.synthetic.SyntheticTask;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft data synth}: writes the built-in synthetic task as ReFT JSON files, so that a person can read what
 * the model is trained and tested on.
 */
@Command(name = "synth", mixinStandardHelpOptions = true,
    description = {"Generate the built-in synthetic word problems as ReFT JSON files:",
        "  synthetic_{train,test,hard}_nl.json (N-CoT) and synthetic_{train,test,hard}_python_sdp.json (P-CoT).",
        "The hard file is the separately reported slice of longer problems."})
public final class SynthCommand implements Callable<Integer> {

  /** Which annotations to write. */
  public enum Style { ncot, pcot, both }

  @Option(names = "--out", required = true, description = "Directory to write the files to (created if missing).")
  Path out;

  @Option(names = "--train", defaultValue = "2000", description = "Training problems (default: ${DEFAULT-VALUE}).")
  int train;

  @Option(names = "--test", defaultValue = "1000", description = "Held-out problems, same steps as training (default: ${DEFAULT-VALUE}).")
  int test;

  @Option(names = "--hard", defaultValue = "500",
      description = "Held-out problems with more steps than training, reported separately (default: ${DEFAULT-VALUE}).")
  int hard;

  @Option(names = "--seed", defaultValue = "" + SyntheticConfig.DEFAULT_SEED, description = "Generator seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--task", defaultValue = "paths", converter = TaskConverter.class,
      description = "paths (chains of different cost, plus every single-step fact) or orders (default: ${DEFAULT-VALUE}).")
  SyntheticConfig.Task task;

  @Option(names = "--style", defaultValue = "both", description = "ncot, pcot or both (default: ${DEFAULT-VALUE}).")
  Style style;

  @Override
  public Integer call() throws IOException {
    SyntheticConfig config = SyntheticConfig.defaults(task, seed).withSizes(train, test, hard);
    SyntheticData data = SyntheticTask.generate(config);
    List<CotStyle> styles = switch (style) {
      case ncot -> List.of(CotStyle.NCOT);
      case pcot -> List.of(CotStyle.PCOT);
      case both -> List.of(CotStyle.NCOT, CotStyle.PCOT);
    };
    for (CotStyle s : styles) {
      String suffix = s == CotStyle.NCOT ? "_nl.json" : "_python_sdp.json";
      write(out.resolve("synthetic_train" + suffix), data.train(s));
      write(out.resolve("synthetic_test" + suffix), data.test(s));
      write(out.resolve("synthetic_hard" + suffix), data.hardTest(s));
    }
    System.out.printf("seed=%d steps: train/test %d-%d, hard %d; counts 2-%d, factors 2-%d, results 0-%d%n",
        seed, config.minSteps(), config.maxSteps(), config.hardSteps(), config.maxNumber(), config.maxFactor(),
        config.maxResult());
    describe("train", data.train());
    describe("test", data.test());
    describe("hard", data.hardTest());
    return 0;
  }

  private static void write(Path file, List<dev.reft.tasks.Problem> problems) throws IOException {
    Datasets.writeReftJson(file, problems);
    System.out.printf("wrote %s (%d problems)%n", file, problems.size());
  }

  private static void describe(String split, List<SyntheticProblem> problems) {
    if (problems.isEmpty()) {
      return;
    }
    Map<Integer, Long> bySteps = problems.stream()
        .collect(Collectors.groupingBy(SyntheticProblem::steps, TreeMap::new, Collectors.counting()));
    long severalOrders = problems.stream().filter(p -> p.validOrders() > 1).count();
    System.out.printf("  %-5s %5d problems, by steps %s, %.0f%% with more than one valid order%n",
        split, problems.size(), bySteps, 100.0 * severalOrders / problems.size());
  }
}
