package dev.reft.cli.data;

import dev.reft.schemas.CotStyle;
import dev.reft.tasks.DatasetFormatException;
import dev.reft.tasks.Datasets;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft data gsm8k-ncot}: turns GSM8K's own solutions into an N-CoT training file in the ReFT JSON
 * format. Each line of the GSM8K JSONL file becomes one item {@code gsm8k_<line index>} whose {@code answer_cot}
 * is the solution without its calculator annotations and {@code #### N} line ({@link Prompts#stripGsm8kMarkup})
 * and whose {@code answer_value} is N; the SFT target built from it is the one built from the JSONL line itself.
 * The output is deterministic: the same input gives the same bytes.
 */
@Command(name = "gsm8k-ncot", mixinStandardHelpOptions = true,
    description = {"Write GSM8K's own solutions as a ReFT N-CoT file [{item_id, question, answer_cot, answer_value}]:",
        "  answer_cot = the solution without <<...>> calculator annotations and the '#### N' line, answer_value = N.",
        "Item ids are gsm8k_<line index>, as when the JSONL file is read directly."})
public final class Gsm8kNcotCommand implements Callable<Integer> {

  @Option(names = "--in", required = true, paramLabel = "FILE", description = "A GSM8K JSONL file ({\"question\", \"answer\"} per line).")
  Path in;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "The ReFT JSON file to write (.json; parent directories are created).")
  Path out;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    java.io.PrintWriter err = spec.commandLine().getErr();
    if (!in.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jsonl") || !Files.isRegularFile(in)) {
      err.println("reft data gsm8k-ncot: --in must be an existing GSM8K .jsonl file: " + in);
      return 2;
    }
    if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")) {
      err.println("reft data gsm8k-ncot: --out must name a .json file: " + out);
      return 2;
    }
    List<Problem> solutions;
    try {
      solutions = Datasets.read(in, CotStyle.NCOT);
    } catch (DatasetFormatException e) {
      err.println("reft data gsm8k-ncot: " + e.getMessage());
      return 2;
    }
    List<Problem> items = new ArrayList<>(solutions.size());
    for (Problem p : solutions) {
      items.add(new Problem(p.id(), p.dataset(), p.question(), p.goldAnswer(), Prompts.stripGsm8kMarkup(p.cot()),
          CotStyle.NCOT, 0));
    }
    Datasets.writeReftJson(out, items);
    System.out.printf("wrote %s (%d problems from %s)%n", out, items.size(), in);
    return 0;
  }
}
