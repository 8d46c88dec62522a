package dev.reft.learner.loop;

import dev.reft.learner.train.Rollout;
import dev.reft.learner.train.SftTrainer;
import dev.reft.schemas.AvroSerde;
import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.Topics;
import io.quarkus.logging.Log;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * A replay of {@code reft.trajectories.rewarded}: the CORRECT chains of thought of one run in a time range, as
 * SFT examples (Offline-ST trains on them). Reads committed records only; records it cannot decode are skipped.
 */
public final class RewardedReplay {

  private final KafkaIo kafka;
  private final String topic;

  public RewardedReplay(KafkaIo kafka, Function<String, Optional<String>> config) {
    this.kafka = kafka;
    this.topic = Topics.TRAJECTORIES_REWARDED.name(config);
  }

  /**
   * @param sourceRun the run whose trajectories to keep
   * @param from replay from this time (else the beginning of the topic)
   * @param to replay up to this time (else the end of the topic when the replay starts)
   */
  public List<SftTrainer.Example> correct(String sourceRun, Optional<Instant> from, Optional<Instant> to) {
    AvroSerde<RewardedTrajectory> serde = (AvroSerde<RewardedTrajectory>) Topics.TRAJECTORIES_REWARDED.valueSerde();
    List<SftTrainer.Example> out = new ArrayList<>();
    Map<String, Long> outcomes = new TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> c = kafka.rawConsumer("learner-replay-" + sourceRun);
        var clientMetrics = kafka.meter(c)) {
      List<TopicPartition> partitions = KafkaIo.partitions(c, topic);
      c.assign(partitions);
      Map<TopicPartition, Long> end = new HashMap<>(c.endOffsets(partitions));
      to.ifPresent(t -> c.offsetsForTimes(at(partitions, t)).forEach((tp, ot) -> {
        if (ot != null) {
          end.put(tp, ot.offset());
        }
      }));
      if (from.isPresent()) {
        c.offsetsForTimes(at(partitions, from.get())).forEach((tp, ot) -> c.seek(tp, ot == null ? end.get(tp) : ot.offset()));
      } else {
        c.seekToBeginning(partitions);
      }
      while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
            continue;
          }
          RewardedTrajectory t;
          try {
            t = serde.decode(r.value());
          } catch (RuntimeException e) {
            continue;
          }
          if (t == null || !sourceRun.equals(t.getTrajectory().getRunId())) {
            continue;
          }
          outcomes.merge(t.getOutcome().name(), 1L, Long::sum);
          if (t.getOutcome() == Outcome.CORRECT && !t.getTrajectory().getResponseTokenIds().isEmpty()) {
            Rollout rollout = Rollout.of(t);
            out.add(new SftTrainer.Example(rollout.prompt(), rollout.response()));
          }
        }
      }
    }
    Log.infof("replayed run %s from %s: outcomes %s; keeping the %d CORRECT ones", sourceRun, topic, outcomes,
        out.size());
    return out;
  }

  private static Map<TopicPartition, Long> at(List<TopicPartition> partitions, Instant time) {
    Map<TopicPartition, Long> m = new HashMap<>();
    partitions.forEach(tp -> m.put(tp, time.toEpochMilli()));
    return m;
  }
}
