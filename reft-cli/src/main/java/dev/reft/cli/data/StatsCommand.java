package dev.reft.cli.data;

import dev.reft.tasks.Datasets;
import dev.reft.tasks.Problem;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code reft data stats FILE...}: counts per data set and style, with annotation and length figures. */
@Command(name = "stats", mixinStandardHelpOptions = true,
    description = "Count the items of data files per data set and style (and per difficulty when known).")
public final class StatsCommand implements Callable<Integer> {

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "ReFT JSON (.json) or GSM8K JSONL (.jsonl) files.")
  List<Path> files;

  /** Running counts of one (data set, style) group. */
  private static final class Group {
    int items;
    int annotated;
    long questionWords;
    long cotWords;
    final Map<Integer, Integer> byDifficulty = new TreeMap<>();

    void add(Problem p) {
      items++;
      questionWords += words(p.question());
      if (p.hasCot()) {
        annotated++;
        cotWords += words(p.cot());
      }
      if (p.difficulty() > 0) {
        byDifficulty.merge(p.difficulty(), 1, Integer::sum);
      }
    }

    private static int words(String text) {
      String t = text.strip();
      return t.isEmpty() ? 0 : t.split("\\s+").length;
    }
  }

  @Override
  public Integer call() {
    for (Path file : files) {
      Map<String, Group> groups = new TreeMap<>();
      try (Stream<Problem> problems = Datasets.stream(file, null)) {
        problems.forEach(p -> groups.computeIfAbsent(p.dataset() + " " + p.style(), k -> new Group()).add(p));
      }
      System.out.println(file);
      System.out.printf("  %-16s %-5s %7s %9s %10s %9s  %s%n", "dataset", "style", "items", "annotated",
          "q_words", "cot_words", "by difficulty");
      int total = 0;
      for (Map.Entry<String, Group> e : groups.entrySet()) {
        String[] key = e.getKey().split(" ");
        Group g = e.getValue();
        total += g.items;
        System.out.printf("  %-16s %-5s %7d %9d %10.1f %9s  %s%n", key[0], key[1], g.items, g.annotated,
            (double) g.questionWords / g.items,
            g.annotated == 0 ? "-" : String.format("%.1f", (double) g.cotWords / g.annotated),
            g.byDifficulty.isEmpty() ? "-" : g.byDifficulty.toString());
      }
      System.out.printf("  %-16s %-5s %7d%n", "total", "", total);
    }
    return 0;
  }
}
