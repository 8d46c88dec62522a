package dev.reft.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A short chaos run, as CI runs it: the services from their jars (built earlier in the reactor), one kill -9 of each
 * of sampler, reward service and learner, one broker restart and one poison record of every kind on every input
 * topic, on a small configuration (300 training problems, 2 warm-up epochs, 8 PPO updates). The audit must be clean:
 * nothing lost or duplicated, nothing trained twice, every poison record dead-lettered or ignored as designed.
 */
class ChaosCommandIT {

  @Test
  void aShortChaosRunAuditsClean(@TempDir Path dir) throws Exception {
    System.setProperty("reft.root", Path.of("..").toAbsolutePath().normalize().toString());
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.out;
    PrintStream tee = new PrintStream(new java.io.OutputStream() {
      @Override
      public void write(int b) {
        captured.write(b);
        original.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        captured.write(b, off, len);
        original.write(b, off, len);
      }
    }, true, StandardCharsets.UTF_8);
    int exit;
    System.setOut(tee);
    try {
      exit = new CommandLine(new ChaosCommand()).execute("--preset", "quick", "--warmup-epochs", "2", "--updates", "8",
          "--train-size", "300", "--test-size", "40", "--kills", "1", "--seed", "3", "--timeout", "30",
          "--dir", dir.toString());
    } finally {
      System.setOut(original);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    assertThat(out).contains("chaos: published", "chaos: restarting the broker", "audit: CLEAN");
    for (String victim : new String[] {"reward-service", "learner-reft", "sampler-chaos"}) {
      assertThat(out).as("%s was killed", victim).containsPattern("chaos: kill -9 " + victim + "\\S* \\(pid \\d+\\)");
    }
    assertThat(out).contains("kills (kill -9)     sampler 1, reward 1, learner 1; broker restarts 1", "lost 0, duplicated 0",
        ": exact", "genuine records dead-lettered: 0");
    assertThat(out).as("every poison record as expected").containsPattern("poison +(\\d+) records on 4 topics, \\1 as expected");
    assertThat(out).as("the table was printed").containsPattern("ReFT under chaos +v8");
    assertThat(exit).as("exit status (the summary says why)").isZero();
  }
}
