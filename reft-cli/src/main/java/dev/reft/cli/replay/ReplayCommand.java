package dev.reft.cli.replay;

import dev.reft.cli.Settings;
import dev.reft.cli.kafka.LocalBrokerProcess;
import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.schemas.AvroSerde;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topic;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Grader;
import dev.reft.tasks.sandbox.PythonSandbox;
import dev.reft.tasks.sandbox.SandboxConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft replay}: copies a range of a topic into a new topic — as it was, or (for
 * {@code reft.trajectories.sampled}) re-scored with the current reward rule as rewarded trajectories.
 * Offline-ST trains from such a topic ({@code reft.topics.trajectories-rewarded=<new topic>}).
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = {"Replay a range of a topic into a new topic, as it was or re-scored with the current reward rule.",
        "Kafka's own alternative for a consumer group: kafka-consumer-groups.sh --reset-offsets (see the README)."})
public final class ReplayCommand implements Callable<Integer> {

  @Option(names = "--bootstrap", defaultValue = "localhost:9092", description = "Kafka cluster (default: ${DEFAULT-VALUE}).")
  String bootstrap;

  @picocli.CommandLine.Mixin
  dev.reft.cli.kafka.KafkaClientOptions kafka = new dev.reft.cli.kafka.KafkaClientOptions();

  @Option(names = "--topic", required = true, description = "Topic to read, e.g. reft.trajectories.sampled.")
  String topic;

  @Option(names = "--into", required = true, description = "Topic to write (created like the source when missing).")
  String into;

  @ArgGroup(exclusive = true)
  From from = new From();

  static final class From {
    @Option(names = "--from-offset", description = "First offset of every partition (default: the beginning).")
    Long offset;

    @Option(names = "--from-time", description = "First record at or after this time, ISO-8601 (e.g. 2026-11-28T10:00:00Z).")
    Instant time;
  }

  @ArgGroup(exclusive = true)
  To to = new To();

  static final class To {
    @Option(names = "--to-offset", description = "Stop before this offset in every partition (default: the end at start).")
    Long offset;

    @Option(names = "--to-time", description = "Stop before the first record at or after this time, ISO-8601.")
    Instant time;
  }

  @Option(names = "--run", description = "Keep only trajectories of this run (trajectory topics only).")
  String run;

  @Option(names = "--rescore", description = "Grade sampled trajectories with the current reward rule; write RewardedTrajectory records.")
  boolean rescore;

  @Override
  public Integer call() throws Exception {
    if (rescore && !isTopic(topic, Topics.TRAJECTORIES_SAMPLED)) {
      System.err.println("reft replay: --rescore reads sampled trajectories (" + Topics.TRAJECTORIES_SAMPLED.name(Settings::lookup) + ")");
      return 2;
    }
    LocalBrokerProcess.requireReachable(kafka.client(bootstrap));
    Map<Integer, long[]> counts = new TreeMap<>();
    AtomicLong acknowledged = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicReference<Exception> firstFailure = new AtomicReference<>();
    Map<String, Object> client = kafka.client(bootstrap);
    Map<String, Object> consumerConfig = new java.util.HashMap<>(client);
    consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, Object> producerConfig = new java.util.HashMap<>(client);
    producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    try (Admin admin = LocalBrokerProcess.admin(client);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(),
            new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(),
            new ByteArraySerializer());
        PythonSandbox sandbox = rescore ? PythonSandbox.start(SandboxConfig.from(Settings::lookup)) : null) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      if (partitions.isEmpty()) {
        System.err.println("reft replay: no topic " + topic);
        return 2;
      }
      ensureTarget(admin, partitions.size());
      consumer.assign(partitions);
      Map<TopicPartition, Long> start = positions(consumer, partitions, from.offset, from.time, true);
      Map<TopicPartition, Long> end = positions(consumer, partitions, to.offset, to.time, false);
      start.forEach(consumer::seek);
      Grader grader = sandbox == null ? null : new Grader(sandbox);
      AvroSerde<SampledTrajectory> sampledSerde = (AvroSerde<SampledTrajectory>) Topics.TRAJECTORIES_SAMPLED.valueSerde();
      AvroSerde<RewardedTrajectory> rewardedSerde = (AvroSerde<RewardedTrajectory>) Topics.TRAJECTORIES_REWARDED.valueSerde();
      long t0 = System.nanoTime();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          if (r.offset() >= end.get(tp)) {
            continue;
          }
          long[] c = counts.computeIfAbsent(r.partition(), p -> new long[3]);
          c[0]++;
          byte[] value = r.value();
          if (run != null || rescore) {
            SampledTrajectory t = trajectoryOf(value, sampledSerde, rewardedSerde);
            if (t == null || (run != null && !run.equals(t.getRunId()))) {
              c[2]++;
              continue;
            }
            if (rescore) {
              value = rewardedSerde.encode(rescored(grader, t));
            }
          }
          producer.send(new ProducerRecord<>(into, r.partition(), r.timestamp(), r.key(), value, r.headers()),
              (metadata, e) -> {
                if (e == null) {
                  acknowledged.incrementAndGet();
                } else {
                  failed.incrementAndGet();
                  firstFailure.compareAndSet(null, e);
                }
              });
          c[1]++;
        }
      }
      producer.flush();
      long read = counts.values().stream().mapToLong(c -> c[0]).sum();
      long written = counts.values().stream().mapToLong(c -> c[1]).sum();
      if (failed.get() > 0) {
        // Nothing is lost silently: a replay the broker did not take in full says so and fails.
        System.err.printf("reft replay: %d of %d records were not written to %s (%d acknowledged): %s%n"
            + "  the target may hold a partial copy; delete it and replay again%n",
            failed.get(), written, into, acknowledged.get(), firstFailure.get());
        return 1;
      }
      System.out.printf("replayed %s -> %s: read %d, wrote %d%s, skipped %d, in %.1f s%n", topic, into, read, written,
          rescore ? " (re-scored with " + Grader.REWARD_RULE + ")" : "", read - written, (System.nanoTime() - t0) / 1e9);
      counts.forEach((p, c) -> System.out.printf("  partition %d: %d read, %d written%n", p, c[0], c[1]));
      return 0;
    }
  }

  /** The sampled trajectory inside a sampled or rewarded record, or null when it does not decode. */
  private SampledTrajectory trajectoryOf(byte[] value, AvroSerde<SampledTrajectory> sampled,
      AvroSerde<RewardedTrajectory> rewarded) {
    try {
      if (isTopic(topic, Topics.TRAJECTORIES_REWARDED)) {
        RewardedTrajectory r = rewarded.decode(value);
        return r == null ? null : r.getTrajectory();
      }
      return sampled.decode(value);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static RewardedTrajectory rescored(Grader grader, SampledTrajectory t) {
    return grader.grade(t.getStyle(), t.getQuestion(), t.getResponseText(), t.getGoldAnswer()).toRecord(t, "reft-replay");
  }

  private static boolean isTopic(String name, Topic<?, ?> t) {
    return name.equals(t.name(Settings::lookup)) || name.equals(t.defaultName());
  }

  /** Creates the target topic with the source's partition count (and the catalog's cleanup policy if known). */
  private void ensureTarget(Admin admin, int partitions) {
    Topic<?, ?> like = rescore ? Topics.TRAJECTORIES_REWARDED
        : Topics.ALL.stream().filter(t -> isTopic(topic, t)).findFirst().orElse(Topics.TRAJECTORIES_SAMPLED);
    var newTopic = new org.apache.kafka.clients.admin.NewTopic(into, partitions, (short) 1)
        .configs(like.configs());
    LocalKafkaBroker.createTopics(admin, List.of(newTopic));
  }

  private static Map<TopicPartition, Long> positions(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> partitions,
      Long offset, Instant time, boolean start) {
    Map<TopicPartition, Long> begin = c.beginningOffsets(partitions);
    Map<TopicPartition, Long> end = c.endOffsets(partitions);
    Map<TopicPartition, Long> out = new HashMap<>();
    Map<TopicPartition, Long> times = new HashMap<>();
    if (time != null) {
      partitions.forEach(tp -> times.put(tp, time.toEpochMilli()));
    }
    var byTime = time == null ? Map.<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndTimestamp>of() : c.offsetsForTimes(times);
    for (TopicPartition tp : partitions) {
      long o;
      if (offset != null) {
        o = offset;
      } else if (time != null) {
        var at = byTime.get(tp);
        o = at == null ? end.get(tp) : at.offset();
      } else {
        o = start ? begin.get(tp) : end.get(tp);
      }
      out.put(tp, Math.max(begin.get(tp), Math.min(end.get(tp), o)));
    }
    return out;
  }
}
