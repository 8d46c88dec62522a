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

/** Every learner series the Grafana dashboard queries is one the learner publishes: a typo fails the build. */
class DashboardMetricsTest {

  private static final Pattern LEARNER_SERIES = Pattern.compile("\\breft_learner_[a-z_]+");
  private static final Pattern EVENT = Pattern.compile("event=\\\\?\"([a-z_]+)\\\\?\"");

  @Test
  void everyLearnerMetricOfTheDashboardIsInTheCatalog() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(Path.of("..", "k8s", "grafana", "reft-dashboard.json").toFile());
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
}
