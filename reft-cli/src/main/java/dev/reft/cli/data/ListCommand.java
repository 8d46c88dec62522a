package dev.reft.cli.data;

import dev.reft.cli.Settings;
import dev.reft.schemas.CotStyle;
import dev.reft.tasks.DatasetFormatException;
import dev.reft.tasks.Datasets;
import dev.reft.tasks.Problem;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft data list}: what ships under {@code data/}. For each file: its data set, style, item count, size
 * and whether its SHA-256 (and item count) match {@code data/MANIFEST.tsv} ({@link DataManifest}). Exits 0 when
 * every file of the manifest is there and matches, 1 when one does not, 2 when the data directory or the
 * manifest cannot be read.
 */
@Command(name = "list", mixinStandardHelpOptions = true,
    description = {"List the data files that ship in the data directory: data set, style (N-CoT, P-CoT, or none",
        "for test sets without chains of thought), items, bytes, and whether the SHA-256 and item count match",
        "the manifest (" + DataManifest.FILE_NAME + "). Ends with one summary line; exit code 1 if a file is",
        "missing, changed or unreadable."})
public final class ListCommand implements Callable<Integer> {

  /** Files of the data directory that describe it and are not hashed in the manifest. */
  static final Set<String> INDEX_FILES = Set.of("README.md", DataManifest.FILE_NAME);

  @Option(names = "--dir", paramLabel = "DIR", description = "The data directory (default: reft.data.dir or data).")
  Path dir;

  @Option(names = "--markdown",
      description = "Print the manifest's files as the Markdown table of data/README.md (full SHA-256, licence, source).")
  boolean markdown;

  /** What was found for one file. */
  private record Row(String file, String dataset, String style, String items, long bytes, String sha256,
      String check, boolean failed, DataManifest.Entry entry) {}

  @Override
  public Integer call() {
    Path root = dir != null ? dir : Path.of(Settings.lookup("reft.data.dir").orElse("data"));
    if (!Files.isDirectory(root)) {
      System.err.println("reft data list: no data directory at " + root.toAbsolutePath()
          + " (run ./reft from the repository root, or pass --dir)");
      return 2;
    }
    DataManifest manifest;
    List<Path> files;
    try {
      manifest = DataManifest.read(root.resolve(DataManifest.FILE_NAME));
      try (Stream<Path> walk = Files.walk(root)) {
        files = walk.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
      }
    } catch (NoSuchFileException e) {
      System.err.println("reft data list: no " + DataManifest.FILE_NAME + " in " + root.toAbsolutePath()
          + ": nothing to check the files against");
      return 2;
    } catch (IllegalArgumentException e) {
      System.err.println("reft data list: " + e.getMessage());
      return 2;
    } catch (IOException | UncheckedIOException e) {
      System.err.println("reft data list: cannot read the data directory " + root.toAbsolutePath() + ": " + e.getMessage());
      return 2;
    }

    List<Row> rows = new ArrayList<>();
    Set<String> seen = new TreeSet<>();
    for (Path relative : files) {
      String name = relative.toString().replace(relative.getFileSystem().getSeparator(), "/");
      seen.add(name);
      rows.add(inspect(root.resolve(relative), name, manifest.entries().get(name)));
    }
    for (DataManifest.Entry e : manifest.entries().values()) {
      if (!seen.contains(e.file())) {
        rows.add(new Row(e.file(), "-", "-", "-", -1, "-", "MISSING", true, e));
      }
    }

    if (markdown) {
      printMarkdown(rows);
    } else {
      printTable(root, rows);
    }
    long ok = rows.stream().filter(r -> r.entry() != null && !r.failed()).count();
    long failed = rows.stream().filter(Row::failed).count();
    long unlisted = rows.stream().filter(r -> r.entry() == null && !INDEX_FILES.contains(r.file())).count();
    long bytes = rows.stream().mapToLong(r -> Math.max(0, r.bytes())).sum();
    String summary = String.format(Locale.ROOT, "%d files, %d bytes; manifest: %d entries, %d match, %d do not; %d unlisted",
        files.size(), bytes, manifest.entries().size(), ok, failed, unlisted);
    (markdown ? System.err : System.out).println(summary);
    return failed == 0 ? 0 : 1;
  }

  private static void printTable(Path root, List<Row> rows) {
    System.out.println(root.toAbsolutePath().normalize());
    System.out.printf("  %-36s %-15s %-5s %6s %9s  %-12s  %s%n", "file", "dataset", "style", "items", "bytes", "sha256",
        "check");
    for (Row r : rows) {
      System.out.printf("  %-36s %-15s %-5s %6s %9s  %-12s  %s%n", r.file(), r.dataset(), r.style(), r.items(),
          r.bytes() < 0 ? "-" : Long.toString(r.bytes()), r.sha256().length() > 12 ? r.sha256().substring(0, 12) : r.sha256(),
          r.check());
    }
  }

  private static void printMarkdown(List<Row> rows) {
    System.out.println("| file | data set | style | items | bytes | licence | source | SHA-256 |");
    System.out.println("|---|---|---|---:|---:|---|---|---|");
    for (Row r : rows) {
      if (r.entry() == null) {
        continue;
      }
      System.out.printf("| `%s` | %s | %s | %s | %s | %s | %s | `%s` |%n", r.file(), r.dataset(), r.style(), r.items(),
          r.bytes() < 0 ? "-" : Long.toString(r.bytes()), r.entry().license(), r.entry().source(), r.entry().sha256());
    }
    for (Row r : rows) {
      if (r.failed()) {
        System.err.println("reft data list: " + r.file() + ": " + r.check());
      }
    }
  }

  /** Size, hash, and for {@code .json}/{@code .jsonl} files the items, compared with the manifest entry. */
  private static Row inspect(Path file, String name, DataManifest.Entry entry) {
    long bytes;
    String sha256;
    try {
      bytes = Files.size(file);
      sha256 = sha256(file);
    } catch (IOException e) {
      return new Row(name, "-", "-", "-", -1, "-", "UNREADABLE: " + e.getMessage(), true, entry);
    }
    String dataset = "-";
    String style = "-";
    String items = "-";
    Integer count = null;
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".json") || lower.endsWith(".jsonl")) {
      Set<String> datasets = new TreeSet<>();
      Set<String> styles = new TreeSet<>();
      int n = 0;
      try (Stream<Problem> problems = Datasets.stream(file, null)) {
        for (Problem p : (Iterable<Problem>) problems::iterator) {
          n++;
          datasets.add(p.dataset());
          if (p.hasCot()) {
            styles.add(p.style() == CotStyle.PCOT ? "P-CoT" : "N-CoT");
          }
        }
      } catch (DatasetFormatException | UncheckedIOException e) {
        return new Row(name, "?", "?", "?", bytes, sha256, "UNREADABLE: " + e.getMessage(), true, entry);
      }
      count = n;
      items = Integer.toString(n);
      dataset = datasets.isEmpty() ? "-" : String.join(",", datasets);
      style = styles.isEmpty() ? "none" : String.join("+", styles);
    }
    if (entry == null) {
      return new Row(name, dataset, style, items, bytes, sha256,
          INDEX_FILES.contains(name) ? "index (not hashed)" : "unlisted", false, null);
    }
    List<String> problems = new ArrayList<>();
    if (!entry.sha256().equals(sha256)) {
      problems.add("sha256 differs (manifest " + entry.sha256().substring(0, 12) + ")");
    }
    boolean itemsDiffer = entry.items().isPresent() ? count == null || count != entry.items().getAsInt() : count != null;
    if (itemsDiffer) {
      problems.add("items differ (manifest " + (entry.items().isPresent() ? entry.items().getAsInt() : "-") + ")");
    }
    return problems.isEmpty()
        ? new Row(name, dataset, style, items, bytes, sha256, "ok", false, entry)
        : new Row(name, dataset, style, items, bytes, sha256, "MISMATCH: " + String.join(", ", problems), true, entry);
  }

  /** The SHA-256 of a file's bytes, lower-case hex. */
  static String sha256(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
