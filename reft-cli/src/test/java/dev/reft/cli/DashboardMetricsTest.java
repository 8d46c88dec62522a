package dev.reft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reft.learner.metrics.LearnerEvent;
import dev.reft.learner.metrics.Metric;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard's file: every learner series it queries is one the learner publishes (a typo fails the build),
 * it imports through Grafana's UI and by provisioning alike, and its rates follow the scrape interval.
 * {@code DashboardPrometheusIT} proves its expressions against a real Prometheus.
 */
class DashboardMetricsTest {

  private static final String DATASOURCE = "${DS_PROMETHEUS}";
  private static final Pattern RANGE = Pattern.compile("\\[([^\\]]+)\\]");

  private static JsonNode dashboard() throws Exception {
    return new ObjectMapper().readTree(Path.of("..", "k8s", "grafana", "reft-dashboard.json").toFile());
  }

  private static final Pattern LEARNER_SERIES = Pattern.compile("\\breft_learner_[a-z_]+");
  private static final Pattern EVENT = Pattern.compile("event=\\\\?\"([a-z_]+)\\\\?\"");

  @Test
  void everyLearnerMetricOfTheDashboardIsInTheCatalog() throws Exception {
    JsonNode dashboard = dashboard();
    List<String> expressions = new ArrayList<>();
    dashboard.findValues("expr").forEach(e -> expressions.add(e.asText()));
    assertThat(expressions).isNotEmpty();
    Set<String> known = Arrays.stream(Metric.values()).map(Metric::gauge).collect(Collectors.toCollection(TreeSet::new));
    known.add(LearnerEvent.COUNTER);
    Set<String> events = Arrays.stream(LearnerEvent.values()).map(LearnerEvent::key).collect(Collectors.toSet());
    Set<String> used = new TreeSet<>();
    for (String expr : expressions) {
      Matcher m = LEARNER_SERIES.matcher(expr);
      while (m.find()) {
        used.add(m.group());
      }
      if (expr.contains(LearnerEvent.COUNTER)) {
        Matcher e = EVENT.matcher(expr);
        while (e.find()) {
          assertThat(events).as("event in %s", expr).contains(e.group(1));
        }
      }
    }
    assertThat(used).as("the dashboard queries learner metrics").isNotEmpty();
    assertThat(known).as("learner metrics the dashboard queries").containsAll(used);
  }

  /**
   * Import asks for the {@code DS_PROMETHEUS} input and replaces {@code ${DS_PROMETHEUS}} with the chosen data source;
   * provisioning ignores {@code __inputs}, so a data-source variable of that name must resolve it instead.
   */
  @Test
  void everyPanelUsesTheDataSourceOfTheImportInputAndTheVariable() throws Exception {
    JsonNode dashboard = dashboard();
    assertThat(dashboard.path("__inputs")).as("__inputs").anySatisfy(input -> {
      assertThat(input.path("name").asText()).isEqualTo("DS_PROMETHEUS");
      assertThat(input.path("type").asText()).isEqualTo("datasource");
      assertThat(input.path("pluginId").asText()).isEqualTo("prometheus");
    });
    assertThat(dashboard.path("__requires")).as("__requires").anySatisfy(r -> {
      assertThat(r.path("type").asText()).isEqualTo("datasource");
      assertThat(r.path("id").asText()).isEqualTo("prometheus");
    });
    assertThat(dashboard.path("templating").path("list")).as("the variable provisioning resolves").anySatisfy(v -> {
      assertThat(v.path("name").asText()).isEqualTo("DS_PROMETHEUS");
      assertThat(v.path("type").asText()).isEqualTo("datasource");
      assertThat(v.path("query").asText()).isEqualTo("prometheus");
    });
    assertThat(dashboard.path("panels")).isNotEmpty();
    for (JsonNode panel : dashboard.path("panels")) {
      String title = panel.path("title").asText();
      assertThat(panel.path("datasource").path("uid").asText()).as("data source of %s", title).isEqualTo(DATASOURCE);
      assertThat(panel.path("targets")).as("targets of %s", title).isNotEmpty();
      for (JsonNode target : panel.path("targets")) {
        assertThat(target.path("datasource").path("uid").asText()).as("data source of %s %s", title,
            target.path("refId").asText()).isEqualTo(DATASOURCE);
      }
    }
  }

  /**
   * Rates and increases use {@code $__rate_interval}, which Grafana derives from the scrape interval (a fixed
   * {@code [1m]} is empty at a 1-minute scrape interval and noisy at 1 s); a fixed window is a deliberate horizon, and
   * then the panel's description names it.
   */
  @Test
  void rangesAreTheRateIntervalOrExplained() throws Exception {
    List<String> fixed = new ArrayList<>();
    for (JsonNode panel : dashboard().path("panels")) {
      String description = panel.path("description").asText();
      for (JsonNode target : panel.path("targets")) {
        Matcher m = RANGE.matcher(target.path("expr").asText());
        while (m.find()) {
          if (!m.group(1).equals("$__rate_interval") && !description.contains(m.group())) {
            fixed.add(panel.path("title").asText() + ": " + target.path("expr").asText());
          }
        }
      }
    }
    assertThat(fixed).as("fixed windows no panel description explains").isEmpty();
  }
}
