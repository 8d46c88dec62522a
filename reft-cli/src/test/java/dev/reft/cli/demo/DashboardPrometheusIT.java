package dev.reft.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.reft.cli.kafka.KafkaClientOptions;
import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.schemas.EvalResult;
import dev.reft.tasks.synthetic.SyntheticConfig;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard (k8s/grafana/reft-dashboard.json) against a real Prometheus scraping the real services: the
 * local pipeline (a broker, reward-service, a sampler and a learner in mode {@code auto} — the warm-up, then 4 PPO
 * updates with a held-out evaluation at version 2 and a final one — each from its jar, as {@code reft demo} runs them)
 * is scraped every second, and then every expression of the dashboard is evaluated over the run, as Grafana's panels
 * do ({@code /api/v1/query_range}): each must return at least one series with a value that is not NaN (Grafana shows
 * an all-NaN series as "No data"). {@code kafka_consumergroup_*} comes from Strimzi's Kafka Exporter, which runs only
 * in the cluster, and is skipped with a note.
 *
 * <p>Uses the {@code prometheus} binary on the PATH (Debian's package); without it the test is skipped, unless
 * {@code REFT_REQUIRE_PROMETHEUS=1} (CI), when it fails. The pipeline starts a process per learner mode with a port
 * chosen at start, so Prometheus finds its targets through HTTP service discovery served by this test from the
 * pipeline's supervisor (refreshed every second), with the labels of k8s/monitoring's scrape configuration
 * ({@code service}, {@code pod}).
 */
class DashboardPrometheusIT {

  /** What {@code $__rate_interval} becomes: Grafana's 4 × the scrape interval would be 4 s; 30 s smooths a 1 s scrape. */
  static final String RATE_INTERVAL = "30s";
  private static final int UPDATES = 4;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** One query of a panel. */
  record Expression(String panel, String refId, String expr) {
    @Override
    public String toString() {
      return panel + " / " + refId + ": " + expr;
    }
  }

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void everyDashboardExpressionReturnsSeriesFromTheRunningServices(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception { // a failure keeps the logs it names
    Optional<Path> binary = onPath("prometheus");
    if (binary.isEmpty()) {
      String why = "no prometheus binary on the PATH (Debian: apt-get install --no-install-recommends prometheus)";
      if ("1".equals(System.getenv("REFT_REQUIRE_PROMETHEUS"))) {
        fail(why + ", and REFT_REQUIRE_PROMETHEUS=1 requires it");
      }
      Assumptions.assumeTrue(false, why + ": skipping the dashboard check");
    }
    Path root = Path.of("..").toAbsolutePath().normalize();
    System.setProperty("reft.root", root.toString());
    List<Expression> expressions = expressions(JSON.readTree(root.resolve("k8s/grafana/reft-dashboard.json").toFile()));
    assertThat(expressions).as("the dashboard's expressions").hasSizeGreaterThan(10);

    String runId = "prom-" + Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
    long t0 = System.nanoTime();
    Map<String, Map<String, String>> targets = new LinkedHashMap<>(); // supervisor name -> labels
    targets.put("reward-service", Map.of("service", "reward-service", "pod", "reward-service"));
    targets.put("sampler-" + runId, Map.of("service", "sampler-service", "pod", "sampler-" + runId));
    targets.put("learner", Map.of("service", "learner-service", "pod", "learner"));

    try (LocalPipeline pipeline = new LocalPipeline(dir.resolve("pipeline"), null, new KafkaClientOptions(), false);
        Discovery discovery = new Discovery(pipeline.supervisor(), targets);
        Prometheus prometheus = Prometheus.start(binary.get(), dir.resolve("prometheus"), discovery.url())) {
      double start = System.currentTimeMillis() / 1000.0;
      RunMonitor monitor = RunMonitor.start(pipeline.client(), runId, System.out);
      pipeline.manage(monitor);
      pipeline.startReward("reft-reward-" + runId);
      // The sampler loads version 0 when the learner publishes it; mode auto warms up, then runs ReFT (as in k8s).
      pipeline.startSampler(runId, false, 1);
      pipeline.runLearner("learner", learnerSettings(runId, dir.resolve("pipeline/checkpoints")), monitor);
      double end = System.currentTimeMillis() / 1000.0;
      System.out.printf(Locale.ROOT, "dashboard: the pipeline ran %.0f s%n", end - start);

      monitor.awaitCaughtUp(Duration.ofMinutes(1));
      List<EvalResult> evals = monitor.evaluations().stream()
          .filter(e -> runId.equals(e.getRunId()) && "reft".equals(e.getMode())).toList();
      assertThat(evals).as("held-out evaluations of the ReFT policy (v2, final)").hasSizeGreaterThanOrEqualTo(2);

      for (String service : List.of("reward-service", "sampler-service", "learner-service")) {
        assertThat(finiteValues(prometheus.range("up{service=\"" + service + "\"} == 1", start, end)))
            .as("Prometheus scraped %s (see %s)", service, prometheus.log).isNotEmpty();
      }
      // The accuracy gauge carried the evaluation at version 2 (the final one comes as the learner exits).
      double v2 = evals.stream().filter(e -> e.getPolicyVersion() == 2).findFirst().orElseThrow().getGreedyAccuracy();
      assertThat(finiteValues(prometheus.range("reft_learner_eval_greedy_accuracy", start, end)))
          .as("greedy accuracy values Prometheus saw (v2's evaluation: %s)", v2).contains(v2);

      Map<String, String> variables = variables(root);
      List<String> missing = new ArrayList<>();
      for (Expression e : expressions) {
        if (e.expr().contains("kafka_consumergroup_")) {
          System.out.println("dashboard: SKIPPED " + e + " (Strimzi's Kafka Exporter, in the cluster only)");
          continue;
        }
        String query = substitute(e.expr(), variables);
        if (query.contains("$")) {
          missing.add(e + " (unresolved variable in " + query + ")");
          continue;
        }
        JsonNode series = prometheus.range(query, start, end);
        long finite = series.size() == 0 ? 0 : countSeriesWithFiniteValues(series);
        String verdict = series.size() == 0 ? "NO SERIES" : finite == 0 ? "ONLY NaN" : "ok";
        System.out.printf(Locale.ROOT, "dashboard: %-9s %d series (%d with values) %s %s%n", verdict, series.size(), finite,
            e, labels(series));
        if (finite == 0) {
          missing.add(e + ": " + verdict.toLowerCase(Locale.ROOT));
        }
      }
      assertThat(missing).as("dashboard expressions without data over the run (Prometheus log: %s; services' logs: %s)",
          prometheus.log, pipeline.logs()).isEmpty();
    } finally {
      System.out.printf(Locale.ROOT, "dashboard: test took %.0f s%n", (System.nanoTime() - t0) / 1e9);
    }
  }

  /** The learner of a small run: 300 problems, 2 warm-up epochs, {@value #UPDATES} PPO updates, 40 held-out problems. */
  private static Map<String, String> learnerSettings(String runId, Path checkpoints) {
    RunOptions run = new RunOptions();
    run.style = "ncot";
    run.seed = 1;
    run.syntheticSeed = SyntheticConfig.DEFAULT_SEED;
    run.task = "paths";
    Preset quick = Preset.of("quick");
    Preset p = new Preset("quick", 300, 40, 0, 2, quick.scheduleEpochs(), UPDATES, 0, quick.votingK(), 2);
    Map<String, String> m = new HashMap<>(DemoCommand.learnerSettings(p, run, runId, checkpoints));
    m.putAll(Map.of("reft.learner.mode", "auto",
        "reft.learner.sft.epochs", Integer.toString(p.warmupEpochs()),
        "reft.learner.sft.schedule-epochs", Integer.toString(p.scheduleEpochs()),
        "reft.learner.sft.final-eval", "false",
        "reft.learner.reft.total-updates", Integer.toString(p.reftUpdates()),
        "reft.learner.reft.eval-every", Integer.toString(p.evalEvery())));
    return m;
  }

  /** Every target expression of every panel. */
  static List<Expression> expressions(JsonNode dashboard) {
    List<Expression> out = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        if (target.hasNonNull("expr")) {
          out.add(new Expression(panel.path("title").asText(), target.path("refId").asText(), target.get("expr").asText()));
        }
      }
    }
    return out;
  }

  /** The dashboard's template variables (other than data sources) and their default values. */
  private static Map<String, String> variables(Path root) throws IOException {
    Map<String, String> out = new HashMap<>();
    for (JsonNode v : JSON.readTree(root.resolve("k8s/grafana/reft-dashboard.json").toFile()).path("templating").path("list")) {
      if (!"datasource".equals(v.path("type").asText())) {
        JsonNode current = v.path("current").path("value");
        out.put(v.path("name").asText(), current.isMissingNode() ? v.path("query").asText() : current.asText());
      }
    }
    return out;
  }

  /** Grafana's substitutions: {@code $__rate_interval} and the template variables' defaults. */
  static String substitute(String expr, Map<String, String> variables) {
    String out = expr.replace("$__rate_interval", RATE_INTERVAL).replace("${__rate_interval}", RATE_INTERVAL);
    for (Map.Entry<String, String> v : variables.entrySet()) {
      out = out.replace("${" + v.getKey() + "}", v.getValue()).replace("[[" + v.getKey() + "]]", v.getValue())
          .replaceAll("\\$" + v.getKey() + "\\b", java.util.regex.Matcher.quoteReplacement(v.getValue()));
    }
    return out;
  }

  /** The series' distinguishing labels, for the log: {@code [{outcome=CORRECT}, ...]}. */
  private static List<Map<String, String>> labels(JsonNode matrix) {
    List<Map<String, String>> out = new ArrayList<>();
    for (JsonNode s : matrix) {
      Map<String, String> l = new java.util.TreeMap<>();
      s.path("metric").fields().forEachRemaining(f -> {
        if (!List.of("__name__", "instance", "job", "service").contains(f.getKey())) {
          l.put(f.getKey(), f.getValue().asText());
        }
      });
      out.add(l);
    }
    return out;
  }

  private static long countSeriesWithFiniteValues(JsonNode matrix) {
    long n = 0;
    for (JsonNode s : matrix) {
      for (JsonNode point : s.path("values")) {
        if (Double.isFinite(Double.parseDouble(point.get(1).asText()))) {
          n++;
          break;
        }
      }
    }
    return n;
  }

  /** The finite values of every series of a range query's result. */
  private static List<Double> finiteValues(JsonNode matrix) {
    List<Double> out = new ArrayList<>();
    for (JsonNode s : matrix) {
      for (JsonNode point : s.path("values")) {
        double v = Double.parseDouble(point.get(1).asText());
        if (Double.isFinite(v)) {
          out.add(v);
        }
      }
    }
    return out;
  }

  private static Optional<Path> onPath(String program) {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .filter(d -> !d.isEmpty())
        .map(d -> Path.of(d, program))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /**
   * Prometheus' HTTP service discovery for the pipeline's services: the processes the supervisor runs now, each with
   * its labels, at {@code /targets}.
   */
  static final class Discovery implements AutoCloseable {
    private final HttpServer server;

    Discovery(Supervisor supervisor, Map<String, Map<String, String>> targets) throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/targets", exchange -> {
        ArrayNode groups = JSON.createArrayNode();
        targets.forEach((name, labels) -> supervisor.current(name).filter(p -> p.process().isAlive()).ifPresent(p -> {
          ObjectNode group = groups.addObject();
          group.putArray("targets").add("127.0.0.1:" + p.httpPort());
          ObjectNode l = group.putObject("labels");
          labels.forEach(l::put);
        }));
        byte[] body = JSON.writeValueAsBytes(groups);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        try (var out = exchange.getResponseBody()) {
          out.write(body);
        }
      });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/targets";
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  /** A Prometheus process with its own storage, scraping every second; stopped on close (and if this JVM dies). */
  static final class Prometheus implements AutoCloseable {
    final Path log;
    private final Process process;
    private final int port;
    private final Thread reaper;

    private Prometheus(Process process, int port, Path log) {
      this.process = process;
      this.port = port;
      this.log = log;
      this.reaper = new Thread(process::destroyForcibly, "reap-prometheus");
      Runtime.getRuntime().addShutdownHook(reaper);
    }

    static Prometheus start(Path binary, Path home, String discovery) throws Exception {
      Files.createDirectories(home);
      Path config = home.resolve("prometheus.yml");
      Files.writeString(config, String.join("\n",
          "global:",
          "  scrape_interval: 1s",
          "  scrape_timeout: 1s",
          "  evaluation_interval: 1s",
          "scrape_configs:",
          "  - job_name: reft-services", // as in k8s/monitoring/prometheus-scrape.yml
          "    metrics_path: /q/metrics",
          "    http_sd_configs:",
          "      - url: " + discovery,
          "        refresh_interval: 1s",
          ""));
      int port = LocalKafkaBroker.freePort();
      Path log = home.resolve("prometheus.log");
      Process p = new ProcessBuilder(binary.toString(), "--config.file=" + config,
          "--storage.tsdb.path=" + home.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port)
          .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(new File("/dev/null")).start();
      Prometheus prometheus = new Prometheus(p, port, log);
      try {
        prometheus.awaitReady(Duration.ofSeconds(60));
      } catch (Exception | Error e) {
        prometheus.close();
        throw e;
      }
      return prometheus;
    }

    private void awaitReady(Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException("prometheus exited with status " + process.exitValue() + "; see " + log);
        }
        try {
          if (HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/-/ready")).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
            return;
          }
        } catch (IOException notYet) {
          // starting
        }
        Thread.sleep(200);
      }
      throw new IllegalStateException("prometheus not ready after " + timeout.toSeconds() + " s; see " + log);
    }

    /** A range query over [start, end] (seconds) at a 2 s step, as a Grafana panel sends it; the result's series. */
    JsonNode range(String query, double start, double end) throws IOException, InterruptedException {
      String form = "query=" + URLEncoder.encode(query, StandardCharsets.UTF_8)
          + String.format(Locale.ROOT, "&start=%.3f&end=%.3f&step=2s", start, end);
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/query_range"))
              .header("Content-Type", "application/x-www-form-urlencoded")
              .POST(HttpRequest.BodyPublishers.ofString(form)).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode body = JSON.readTree(r.body());
      if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
        throw new IllegalStateException("query " + query + " failed: " + r.statusCode() + " " + r.body());
      }
      return body.path("data").path("result");
    }

    @Override
    public void close() throws InterruptedException {
      try {
        Runtime.getRuntime().removeShutdownHook(reaper);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
