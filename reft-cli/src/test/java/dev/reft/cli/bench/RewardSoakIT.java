package dev.reft.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code reft bench reward --minutes 1}: the soak runs end to end — its own broker, reward-service from its jar
 * (built earlier in the reactor), a fixed offered rate, RSS and consumer lag sampled every 10 s — and prints the
 * table and a verdict. At 20 trajectories/s, far below the service's capacity, nearly everything offered is graded.
 */
class RewardSoakIT {

  @Test
  void aOneMinuteSoakGradesWhatItOffersAndPrintsAVerdict() {
    System.setProperty("reft.root", Path.of("..").toAbsolutePath().normalize().toString());
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.out;
    int exit;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      exit = new CommandLine(new RewardBenchCommand()).execute("--minutes", "1", "--rate", "20",
          "--stream-threads", "1", "--workers", "1", "--http-port", Integer.toString(LocalKafkaBroker.freePort()));
    } finally {
      System.setOut(original);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    original.print(out);
    assertThat(exit).as("exit status").isZero();
    assertThat(out).contains("soak: 20 trajectories/s for 1 min", "verdict: memory");
    Matcher graded = Pattern.compile("graded ([\\d,]+) of ([\\d,]+) offered").matcher(out);
    assertThat(graded.find()).as("a graded line").isTrue();
    long done = Long.parseLong(graded.group(1).replace(",", ""));
    long offered = Long.parseLong(graded.group(2).replace(",", ""));
    assertThat(offered).as("offered at 20/s for a minute").isBetween(1_000L, 1_300L);
    assertThat(done).as("graded of %d offered", offered).isGreaterThanOrEqualTo(offered * 9 / 10);
  }
}
