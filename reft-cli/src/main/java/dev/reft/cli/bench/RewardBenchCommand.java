package dev.reft.cli.bench;

import dev.reft.cli.services.ServiceJars;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.FinishReason;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topic;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import dev.reft.tasks.synthetic.SyntheticConfig;
import dev.reft.tasks.synthetic.SyntheticData;
import dev.reft.tasks.synthetic.SyntheticTask;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reft bench reward}: the reward service end to end. Starts a broker (in this JVM, unless
 * {@code --bootstrap}), starts reward-service as its own process from its jar, pushes N sampled N-CoT and
 * then N P-CoT trajectories (the synthetic task's annotations, so all are correct), and prints, per style,
 * trajectories/s from the first send to the last graded record a read_committed consumer sees, and the share
 * of stream-thread time spent outside the grader/executor.
 */
@Command(name = "reward", mixinStandardHelpOptions = true,
    description = {"Push N sampled N-CoT and P-CoT trajectories through a broker and reward-service; print trajectories/s.",
        "With --minutes: a soak at a fixed rate, judging the service's memory (RSS) and consumer lag over time."})
public final class RewardBenchCommand implements Callable<Integer> {

  @Option(names = "--count", defaultValue = "2000", description = "Trajectories per style (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--stream-threads", defaultValue = "2", description = "Kafka Streams threads (default: ${DEFAULT-VALUE}).")
  int streamThreads;

  @Option(names = "--workers", defaultValue = "2", description = "Sandbox workers (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--bootstrap", description = "Use this broker instead of starting one; topics get a unique prefix.")
  String bootstrap;

  @Option(names = "--http-port", defaultValue = "18082", description = "reward-service HTTP port (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--minutes", description = "Soak instead: grade at --rate for this many minutes, sampling the service's "
      + "RSS and consumer lag every 10 s, and judge whether memory stays flat and lag does not grow.")
  Integer minutes;

  @Option(names = "--rate", defaultValue = "100", description = "Soak: trajectories/s offered, half N-CoT, half P-CoT (default: ${DEFAULT-VALUE}).")
  int rate;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    for (var e : Map.of("--count", count, "--stream-threads", streamThreads, "--workers", workers, "--rate", rate).entrySet()) {
      if (e.getValue() < 1) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getKey() + " must be at least 1, not "
            + e.getValue());
      }
    }
    if (minutes != null && minutes < 1) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--minutes must be at least 1, not " + minutes);
    }
    if (bootstrap != null) {
      dev.reft.cli.kafka.LocalBrokerProcess.requireReachable(bootstrap);
    }
    Path root = ServiceJars.root();
    ServiceJars.ensureBuilt(root, List.of("reward-service"));
    String prefix = "bench-" + Instant.now().toEpochMilli() + ".";
    Map<String, String> topicNames = new HashMap<>();
    for (Topic<?, ?> t : Topics.ALL) {
      topicNames.put(t.configKey(), prefix + t.defaultName());
    }
    LocalKafkaBroker broker = null;
    try {
      if (bootstrap == null) {
        broker = LocalKafkaBroker.builder().build().start();
        bootstrap = broker.bootstrapServers();
      }
      try (var admin = dev.reft.cli.kafka.LocalBrokerProcess.admin(bootstrap)) {
        LocalKafkaBroker.createTopics(admin, Topics.newTopics(k -> java.util.Optional.ofNullable(topicNames.get(k)), (short) 1));
      }
      Map<String, String> props = new HashMap<>(topicNames);
      props.put("reft.reward.stream-threads", Integer.toString(streamThreads));
      props.put("reft.sandbox.workers", Integer.toString(workers));
      props.put("quarkus.kafka-streams.application-id", prefix + "reward");
      Path log = root.resolve("var/bench/reward-service.log");
      System.out.printf("reward bench: %d trajectories per style, %d stream threads, %d sandbox workers, broker %s%n",
          count, streamThreads, workers, bootstrap);
      try (ServiceProcess service = ServiceProcess.start("reward-service", ServiceJars.jar(root, "reward-service"), httpPort, props,
          Map.of("KAFKA_BOOTSTRAP_SERVERS", bootstrap), "1g", log)) {
        service.awaitReady(Duration.ofSeconds(120));
        if (minutes != null) {
          new RewardSoak(bootstrap, topicNames.get(Topics.TRAJECTORIES_SAMPLED.configKey()), prefix + "reward",
              service.process().pid(), rate, Duration.ofMinutes(minutes), System.out).run();
          System.out.println("service log: " + log);
          return 0;
        }
        SyntheticData data = SyntheticTask.generate(SyntheticConfig.defaults(7).withSizes(count, 10, 10));
        String sampledTopic = topicNames.get(Topics.TRAJECTORIES_SAMPLED.configKey());
        String rewardedTopic = topicNames.get(Topics.TRAJECTORIES_REWARDED.configKey());
        try (KafkaConsumer<String, RewardedTrajectory> consumer = consumer(rewardedTopic)) {
          // Warm-up (not reported): the first records pay for rebalancing and transaction set-up.
          run(CotStyle.NCOT, data.train(CotStyle.NCOT).subList(0, Math.min(200, count)), sampledTopic, consumer, false);
          for (CotStyle style : List.of(CotStyle.NCOT, CotStyle.PCOT)) {
            run(style, data.train(style), sampledTopic, consumer, true);
          }
        }
      }
      System.out.println("service log: " + log);
      return 0;
    } finally {
      if (broker != null) {
        broker.close();
      }
    }
  }

  private void run(CotStyle style, List<Problem> problems, String sampledTopic,
      KafkaConsumer<String, RewardedTrajectory> consumer, boolean report) throws Exception {
    long t0 = System.nanoTime();
    var sendFailure = new java.util.concurrent.atomic.AtomicReference<Exception>();
    try (KafkaProducer<String, SampledTrajectory> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 5),
        new StringSerializer(), Topics.TRAJECTORIES_SAMPLED.valueSerde().serializer())) {
      for (int i = 0; i < problems.size(); i++) {
        Problem p = problems.get(i);
        producer.send(new ProducerRecord<>(sampledTopic, p.id(), trajectory(style, p, report ? i : -1 - i)),
            (metadata, e) -> {
              if (e != null) {
                sendFailure.compareAndSet(null, e);
              }
            });
      }
    }
    if (sendFailure.get() != null) {
      throw new IllegalStateException("the benchmark's input was not fully written to " + sampledTopic,
          sendFailure.get());
    }
    int seen = 0;
    int correct = 0;
    long executionMicros = 0;
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (seen < problems.size() && System.nanoTime() < deadline) {
      for (var r : consumer.poll(Duration.ofMillis(100))) {
        seen++;
        executionMicros += r.value().getExecutionMicros();
        correct += r.value().getReward() == 1.0f ? 1 : 0;
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (!report) {
      return;
    }
    double outside = 1.0 - executionMicros / 1e6 / (seconds * streamThreads);
    System.out.printf(Locale.ROOT, "%s: %d graded (%d correct) in %.2f s%n", style, seen, correct, seconds);
    System.out.printf(Locale.ROOT, "%s trajectories/s: %.0f%n", style, seen / seconds);
    System.out.printf(Locale.ROOT, "%s mean grading time: %.3f ms%n", style, executionMicros / 1e3 / Math.max(1, seen));
    System.out.printf(Locale.ROOT, "%s share of stream-thread time outside the grader: %.0f %%%n", style, 100 * outside);
    if (seen < problems.size()) {
      System.out.printf("%s: only %d of %d arrived within 10 minutes%n", style, seen, problems.size());
    }
  }

  private KafkaConsumer<String, RewardedTrajectory> consumer(String topic) {
    KafkaConsumer<String, RewardedTrajectory> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, topic + ".bench-reader",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
        Topics.TRAJECTORIES_REWARDED.keySerde().deserializer(), Topics.TRAJECTORIES_REWARDED.valueSerde().deserializer());
    c.subscribe(List.of(topic));
    return c;
  }

  static SampledTrajectory trajectory(CotStyle style, Problem p, int i) {
    Instant now = Instant.now();
    return SampledTrajectory.newBuilder()
        .setRunId("bench")
        .setRequestId("bench-" + style + "-" + i)
        .setSampleIndex(0)
        .setProblemId(p.id())
        .setDataset(p.dataset())
        .setQuestion(p.question())
        .setGoldAnswer(p.goldAnswer())
        .setStyle(style)
        .setPromptTokenIds(List.of())
        .setResponseTokenIds(List.of())
        .setResponseText(Prompts.target(p))
        .setBehaviourLogprobs(List.of())
        .setFinishReason(FinishReason.EOS)
        .setPolicyVersion(0)
        .setTemperature(1f)
        .setSamplerId("bench")
        .setRequestCreatedAt(now)
        .setSamplingMillis(0)
        .setCreatedAt(now)
        .build();
  }
}
