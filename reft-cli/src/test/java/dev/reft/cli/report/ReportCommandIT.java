package dev.reft.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.EvalResult;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.RewardStats;
import dev.reft.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code reft report} reads a run back from its topics and writes the markdown and the charts. */
@WithKafkaBroker
class ReportCommandIT {

  @Test
  void writesTheEvaluationTableAndChartsOfOneRun(LocalKafkaBroker broker, @TempDir Path out) throws Exception {
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    try (KafkaProducer<String, Object> p = new KafkaProducer<>(config, new StringSerializer(), Topics.anyValueSerializer())) {
      for (int v = 1; v <= 5; v++) {
        p.send(new ProducerRecord<>(Topics.LEARNER_UPDATES.defaultName(), "r1", LearnerUpdate.newBuilder().setRunId("r1")
            .setMode("reft").setPolicyVersion(v).setStep(v).setCreatedAt(Instant.now())
            .setMetrics(Map.of("reward_mean", 0.1 * v, "accuracy", 0.05 * v, "kl_to_ref", 0.2 * v, "entropy", 0.5,
                "response_length", 30.0, "policy_lag_mean", 1.0, "policy_lag_max", 2.0)).build()));
        p.send(new ProducerRecord<>(Topics.REWARD_STATS.defaultName(), "r1/" + v, RewardStats.newBuilder().setRunId("r1")
            .setPolicyVersion(v).setCount(10).setRewardSum(v).setMeanReward(0.1 * v).setCorrect(v).setAccuracy(0.1 * v)
            .setOutcomeCounts(Map.of()).setResponseTokensSum(300).setMeanResponseLength(30).setUpdatedAt(Instant.now()).build()));
      }
      p.send(new ProducerRecord<>(Topics.EVAL.defaultName(), "r1", EvalResult.newBuilder().setRunId("r1").setPolicyVersion(5)
          .setStep(5).setMode("reft").setDataset("synthetic-test").setStyle(CotStyle.NCOT).setProblems(100)
          .setGreedyAccuracy(0.42).setVotingK(4).setVotingAccuracy(0.47).setMeanResponseLength(30).setCreatedAt(Instant.now())
          .build()));
      // Another run's record must not appear.
      p.send(new ProducerRecord<>(Topics.EVAL.defaultName(), "other", EvalResult.newBuilder().setRunId("other")
          .setPolicyVersion(9).setStep(9).setMode("reft").setDataset("synthetic-test").setStyle(CotStyle.NCOT)
          .setProblems(100).setGreedyAccuracy(0.99).setVotingK(0).setMeanResponseLength(30).setCreatedAt(Instant.now())
          .build()));
    }
    int exit = new CommandLine(new ReportCommand()).execute("--run", "r1", "--bootstrap", broker.bootstrapServers(),
        "--out", out.toString());
    assertThat(exit).isZero();
    String md = Files.readString(out.resolve("report.md"));
    assertThat(md).contains("# Run r1", "| reft | 5 | synthetic-test | 100 | 42.0 % | 47.0 % (K=4) |")
        .doesNotContain("99.0 %");
    for (String chart : new String[] {"reward", "accuracy", "kl", "entropy", "response-length", "policy-lag"}) {
      Path png = out.resolve(chart + ".png");
      assertThat(png).exists();
      byte[] head = Files.readAllBytes(png);
      assertThat(head[1]).as("%s is a PNG", chart).isEqualTo((byte) 'P');
      assertThat(md).contains("(" + chart + ".png)");
    }
  }
}
