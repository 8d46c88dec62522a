package dev.reft.cli.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.schemas.Topics;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker as a separate process, as {@code reft kafka start|status|stop} runs it. */
class LocalBrokerProcessIT {

  @Test
  void startsAnswersAndStopsWithoutLeavingAProcess(@TempDir Path home) throws Exception {
    LocalBrokerProcess broker = new LocalBrokerProcess(home);
    int port = LocalKafkaBroker.freePort();
    int controllerPort = LocalKafkaBroker.freePort();
    ProcessHandle process = broker.start(port, controllerPort, Duration.ofSeconds(90));
    try {
      assertThat(broker.running()).contains(process);
      assertThat(broker.recordedPort()).contains(port);
      assertThat(KafkaCommand.ensureTopics("localhost:" + port)).isEqualTo(Topics.ALL.size());
      try (Admin admin = LocalBrokerProcess.admin("localhost:" + port)) {
        assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS))
            .contains("reft.rollout.requests", "reft.trajectories.sampled", "reft.trajectories.rewarded",
                "reft.checkpoints", "reft.deadletter", "reft.reward.stats", "reft.eval", "reft.learner.updates");
      }
      assertThatThrownBy(() -> broker.start(port, controllerPort, Duration.ofSeconds(5)))
          .isInstanceOf(LocalBrokerProcess.AlreadyRunningException.class)
          .hasMessageContaining("pid " + process.pid());
    } finally {
      assertThat(broker.stop(Duration.ofSeconds(30))).as("stop finds the running broker; log:%n%s", broker.tail(30)).isTrue();
    }
    assertThat(process.isAlive()).isFalse();
    assertThat(broker.running()).isEmpty();
    assertThat(broker.stop(Duration.ofSeconds(1))).as("stopping twice is harmless").isFalse();
    assertThat(broker.dataDir().resolve("meta.properties")).as("data is kept").exists();
  }

  @Test
  void refusesAPortThatAnotherProgramHolds(@TempDir Path home) throws Exception {
    try (ServerSocket other = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      LocalBrokerProcess broker = new LocalBrokerProcess(home);
      assertThatThrownBy(() -> broker.start(other.getLocalPort(), LocalKafkaBroker.freePort(), Duration.ofSeconds(5)))
          .hasMessageContaining("port " + other.getLocalPort())
          .hasMessageContaining("already in use");
      assertThat(broker.running()).isEmpty();
    }
  }
}
