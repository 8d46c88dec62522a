package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.TopicReader;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.learner.metrics.Metric;
import dev.reft.schemas.LearnerUpdate;
import dev.reft.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short ReFT run through the real broker and the three services as processes raises the reward of its
 * samples: a warm-up that half knows a small set of training problems, then PPO (β > 0) on the same
 * problems. The reward is read back from {@code reft.learner.updates}, as a dashboard would.
 */
@WithKafkaBroker
class ReftRaisesRewardIT {

  private static final String RUN = "reward-rises-it";
  private static final int UPDATES = 60;
  private static final int WINDOW = 15;

  @Test
  @SuppressWarnings("try") // reward and sampler are held open for the learner's run, not used in the body
  void ppoThroughThePipelineRaisesTheMeanReward(LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    // 128 problems, 100 epochs (400 steps): the warm-up knows them in part, so sampling finds right and wrong answers.
    Map<String, String> common = LearnerRig.settings(RUN, dir, 128);
    LearnerRig.warmUp(broker, dir, common, 100);
    Map<String, String> reft = new HashMap<>(common);
    reft.putAll(Map.of(
        "reft.learner.mode", "reft",
        "reft.learner.reft.total-updates", Integer.toString(UPDATES),
        "reft.learner.reft.eval-every", "0",
        "reft.learner.reft.publish-every", "2",
        "reft.ppo.questions-per-batch", "16",
        "reft.ppo.samples-per-question", "4",
        "reft.ppo.max-new-tokens", "64"));
    try (ServiceProcess reward = LearnerRig.reward(broker, dir);
        ServiceProcess sampler = LearnerRig.sampler(broker, dir, RUN, 64);
        ServiceProcess learner = LearnerRig.learner(broker, dir, reft, "reft.log")) {
      assertThat(learner.process().waitFor(900, TimeUnit.SECONDS)).as("ReFT run finished").isTrue();
      assertThat(learner.process().exitValue()).as("log:%n%s", learner.tail(40)).isZero();
    }
    List<LearnerUpdate> updates = TopicReader.readUntil(broker.bootstrapServers(), Topics.LEARNER_UPDATES.defaultName(),
            Topics.LEARNER_UPDATES.keySerde().deserializer(), Topics.LEARNER_UPDATES.valueSerde().deserializer(),
            Duration.ofSeconds(30), got -> got.stream().filter(r -> isReft(r.value())).count() >= UPDATES)
        .stream().map(ConsumerRecord::value).filter(ReftRaisesRewardIT::isReft)
        .sorted(Comparator.comparingLong(LearnerUpdate::getPolicyVersion)).toList();
    assertThat(updates).hasSize(UPDATES);
    double first = meanReward(updates.subList(0, WINDOW));
    double last = meanReward(updates.subList(UPDATES - WINDOW, UPDATES));
    System.out.printf("ReftRaisesRewardIT: mean reward %.3f -> %.3f, sample accuracy %.3f -> %.3f (first vs last %d updates)%n",
        first, last, mean(updates.subList(0, WINDOW), Metric.ACCURACY), mean(updates.subList(UPDATES - WINDOW, UPDATES), Metric.ACCURACY), WINDOW);
    assertThat(updates).allMatch(u -> u.getMetrics().containsKey(Metric.KL_TO_REF.key()), "KL to the reference is tracked");
    assertThat(last).as("mean reward of the last %d updates vs the first %d (%.3f)", WINDOW, WINDOW, first).isGreaterThan(first + 0.02);
    assertThat(mean(updates.subList(UPDATES - WINDOW, UPDATES), Metric.ACCURACY)).as("accuracy of the samples rises")
        .isGreaterThan(mean(updates.subList(0, WINDOW), Metric.ACCURACY));
  }

  private static boolean isReft(LearnerUpdate u) {
    return RUN.equals(u.getRunId()) && "reft".equals(u.getMode());
  }

  private static double meanReward(List<LearnerUpdate> updates) {
    return mean(updates, Metric.REWARD_MEAN);
  }

  private static double mean(List<LearnerUpdate> updates, Metric metric) {
    return updates.stream().mapToDouble(u -> u.getMetrics().get(metric.key())).average().orElseThrow();
  }
}
