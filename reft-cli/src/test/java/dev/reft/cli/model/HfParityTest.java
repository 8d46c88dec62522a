package dev.reft.cli.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.reft.cli.ReftCommandAccess;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.TokenLogProbs;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.hf.HfFixtures;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The project's forward pass against an independent implementation: Jlama (a Java LLM inference engine, run as a
 * separate JDK ≥ 21 process, see {@code src/test/jlama/JlamaReference.java}) on tiny random Hugging Face
 * directories in the Llama layout (grouped-query attention, untied LM head, θ 500,000) and the Qwen2 layout (q/k/v
 * biases, 8 query heads over 2, tied embeddings, θ 10⁶, ε 10⁻⁶, spare vocabulary rows, two shards). The project
 * side goes through {@code reft model import} and loads the resulting checkpoint, as a service would.
 *
 * <p>Asserted: every next-token log-probability (all positions, whole vocabulary) within 1e-3 of Jlama's, and the
 * same 32 greedy tokens from the project's KV-cache sampler.
 */
class HfParityTest {

  static final int GREEDY = 32;
  static final String PROMPT = "the cat sat on the mat; a cat in the hat";

  @TempDir Path tmp;

  @Test
  void llamaLayoutMatchesJlama() throws Exception {
    parity(HfFixtures.Spec.llama());
  }

  @Test
  void qwen2LayoutMatchesJlama() throws Exception {
    parity(HfFixtures.Spec.qwen2());
  }

  private void parity(HfFixtures.Spec spec) throws Exception {
    Path java = jdk21().orElse(null);
    Assumptions.assumeTrue(java != null, "HfParityTest needs a JDK >= 21 to run Jlama; none found in $JAVA_HOME, /usr/lib/jvm, /opt/java "
        + "or -Dreft.jlama.java");
    String classpathFile = System.getProperty("reft.jlama.classpath");
    String source = System.getProperty("reft.jlama.source");
    assertThat(classpathFile).as("reft.jlama.classpath (set by reft-cli's pom)").isNotNull();
    assertThat(source).as("reft.jlama.source (set by reft-cli's pom)").isNotNull();

    Path hf = HfFixtures.write(tmp.resolve("hf"), spec).dir();
    Path ckptDir = tmp.resolve("ckpt");
    assertThat(ReftCommandAccess.execute("model", "import", hf.toString(), "--out", ckptDir.toString()).exit()).isZero();
    Checkpoint ckpt = Checkpoint.open(ckptDir);
    try (PolicyTokenizer tokenizer = ckpt.tokenizer(); PolicyModel model = ckpt.loadModel(Device.cpu(), DataType.FLOAT32)) {
      int[] ids = tokenizer.encodePrompt(PROMPT);
      int vocab = model.config().vocabSize();

      float[] ours;
      try (NDManager batch = model.newBatchManager()) {
        TokenBatch b = TokenBatch.rightPadded(batch, List.of(ids), tokenizer.pad());
        ours = TokenLogProbs.logSoftmax(model.forward(b.tokens(), b.attentionMask()).logits()).toFloatArray(); // (1, T, V)
      }
      Reference jlama = runJlama(java, Path.of(classpathFile), Path.of(source), hf, ids);
      assertThat(jlama.logProbs()).hasSize(ids.length);

      double maxDiff = 0;
      double maxTokenDiff = 0;
      for (int t = 0; t < ids.length; t++) {
        assertThat(jlama.logProbs().get(t)).hasSize(vocab);
        for (int v = 0; v < vocab; v++) {
          double d = Math.abs(ours[t * vocab + v] - jlama.logProbs().get(t)[v]);
          maxDiff = Math.max(maxDiff, d);
          if (t + 1 < ids.length && v == ids[t + 1]) {
            maxTokenDiff = Math.max(maxTokenDiff, d);
          }
        }
      }
      // Greedy through the KV-cache sampler; its stop token is one Jlama's continuation does not contain.
      int stop = 0;
      while (contains(jlama.greedy(), stop)) {
        stop++;
      }
      model.freeze();
      Sample sample = new Sampler(model, stop, tokenizer.pad()).greedy(List.of(ids), GREEDY).get(0);
      System.out.printf(Locale.ROOT, "HfParityTest %s: %d positions x %d ids, max |log-prob difference| %.3g (prompt tokens %.3g); "
              + "greedy %d tokens identical: %s%n  ours  %s%n  jlama %s%n", spec.architecture(), ids.length, vocab, maxDiff, maxTokenDiff,
          GREEDY, Arrays.equals(sample.tokens(), jlama.greedy()), Arrays.toString(sample.tokens()), Arrays.toString(jlama.greedy()));
      assertThat(maxDiff).as("largest log-prob difference to Jlama").isLessThan(1e-3);
      assertThat(sample.tokens()).as("greedy continuation").containsExactly(jlama.greedy());
    }
  }

  record Reference(List<float[]> logProbs, int[] greedy) {}

  static Reference runJlama(Path java, Path classpathFile, Path source, Path hf, int[] ids) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector", "-cp",
        Files.readString(classpathFile, StandardCharsets.UTF_8).strip(), source.toString(), hf.toString(), Integer.toString(GREEDY)));
    for (int id : ids) {
      cmd.add(Integer.toString(id));
    }
    Path log = hf.resolveSibling("jlama.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("Jlama did not finish in 300 s; output:\n" + Files.readString(log));
    }
    List<String> lines = Files.readAllLines(log);
    assertThat(p.exitValue()).as("Jlama's exit code; output:%n%s", String.join("\n", lines)).isZero();
    List<float[]> logProbs = new ArrayList<>();
    int[] greedy = null;
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f[0].equals("LOGPROBS")) {
        assertThat(Integer.parseInt(f[1])).isEqualTo(logProbs.size());
        float[] row = new float[f.length - 2];
        for (int i = 0; i < row.length; i++) {
          row[i] = Float.parseFloat(f[i + 2]);
        }
        logProbs.add(row);
      } else if (f[0].equals("GREEDY")) {
        greedy = Arrays.stream(f).skip(1).mapToInt(Integer::parseInt).toArray();
      }
    }
    assertThat(greedy).as("Jlama's greedy line; output:%n%s", String.join("\n", lines)).isNotNull().hasSize(GREEDY);
    return new Reference(logProbs, greedy);
  }

  private static boolean contains(int[] values, int x) {
    return Arrays.stream(values).anyMatch(v -> v == x);
  }

  /**
   * A {@code java} of a JDK ≥ 21: {@code -Dreft.jlama.java}, else the newest under {@code $JAVA_HOME}, {@code
   * /usr/lib/jvm}, {@code /opt/java}, {@code /usr/local}, {@code ~/.sdkman/candidates/java}.
   */
  static Optional<Path> jdk21() throws IOException {
    String explicit = System.getProperty("reft.jlama.java");
    if (explicit != null && !explicit.isBlank()) {
      return Optional.of(Path.of(explicit));
    }
    List<Path> homes = new ArrayList<>();
    String javaHome = System.getenv("JAVA_HOME");
    if (javaHome != null) {
      homes.add(Path.of(javaHome));
    }
    for (String root : List.of("/usr/lib/jvm", "/opt/java", "/usr/local", System.getProperty("user.home") + "/.sdkman/candidates/java")) {
      Path r = Path.of(root);
      if (Files.isDirectory(r)) {
        try (Stream<Path> children = Files.list(r)) {
          children.forEach(homes::add);
        }
      }
    }
    return homes.stream()
        .filter(h -> Files.isExecutable(h.resolve("bin/java")) && majorVersion(h) >= 21)
        .max(Comparator.comparingInt(HfParityTest::majorVersion))
        .map(h -> h.resolve("bin/java"));
  }

  /** The major version from a JDK's {@code release} file ({@code JAVA_VERSION="25.0.1"}), or 0. */
  static int majorVersion(Path home) {
    try {
      for (String line : Files.readAllLines(home.resolve("release"))) {
        if (line.startsWith("JAVA_VERSION=")) {
          String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
          String major = v.startsWith("1.") ? v.substring(2).split("\\.")[0] : v.split("[.+-]")[0];
          return Integer.parseInt(major);
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }
}
