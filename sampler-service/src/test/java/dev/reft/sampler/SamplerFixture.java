package dev.reft.sampler;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.TokenLogProbs;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import dev.reft.schemas.CheckpointPublished;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.RolloutRequest;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import dev.reft.tasks.synthetic.SyntheticConfig;
import dev.reft.tasks.synthetic.SyntheticData;
import dev.reft.tasks.synthetic.SyntheticTask;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Checkpoints, requests and a sampler process for the sampler's integration tests. */
final class SamplerFixture {

  /** Each test is its own run: the catalog topics are shared by the tests of a class. */
  final String RUN = "sampler-it-" + System.nanoTime();

  final LocalKafkaBroker broker;
  final Path dir;
  final SyntheticData data = SyntheticTask.generate(SyntheticConfig.defaults(11).withSizes(200, 50, 10));
  final PolicyTokenizer tokenizer;

  SamplerFixture(LocalKafkaBroker broker, Path dir) {
    this.broker = broker;
    this.dir = dir;
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    List<String> corpus = new ArrayList<>();
    for (Problem p : data.train(CotStyle.NCOT)) {
      corpus.add(Prompts.prompt(CotStyle.NCOT, p.question()));
      corpus.add(Prompts.target(p));
    }
    tokenizer = TokenizerBuilder.builder().build(corpus);
  }

  /** Writes a random tiny model as a checkpoint; returns it. */
  Checkpoint writeCheckpoint(String name, long seed) throws Exception {
    try (PolicyModel model = PolicyModel.create(ModelConfig.tiny(tokenizer.vocabSize()), seed)) {
      return Checkpoint.writer(model, tokenizer).write(dir.resolve(name));
    }
  }

  /** Publishes a checkpoint event for the run. */
  void publish(Checkpoint checkpoint, long version) throws Exception {
    publish(checkpoint.directory(), checkpoint.identity(), version);
  }

  void publish(Path directory, String sha256, long version) throws Exception {
    CheckpointPublished event = CheckpointPublished.newBuilder()
        .setRunId(RUN)
        .setVersion(version)
        .setUri(directory.toUri().toString())
        .setSha256(sha256)
        .setStep(version * 10)
        .setMode("test")
        .setMetrics(Map.of())
        .setCreatedAt(Instant.now())
        .build();
    try (KafkaProducer<String, CheckpointPublished> p = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
        new StringSerializer(), Topics.CHECKPOINTS.valueSerde().serializer())) {
      p.send(new ProducerRecord<>(Topics.CHECKPOINTS.defaultName(), RUN, event)).get();
    }
  }

  /** Requests for the first {@code count} training problems, K samples each. */
  List<RolloutRequest> requests(String prefix, int count, int k, int maxNewTokens) {
    List<RolloutRequest> out = new ArrayList<>();
    List<Problem> problems = data.train(CotStyle.NCOT);
    for (int i = 0; i < count; i++) {
      Problem p = problems.get(i % problems.size());
      out.add(RolloutRequest.newBuilder()
          .setRunId(RUN)
          .setRequestId(prefix + "-" + i)
          .setProblemId(p.id())
          .setDataset(p.dataset())
          .setQuestion(p.question())
          .setGoldAnswer(p.goldAnswer())
          .setStyle(CotStyle.NCOT)
          .setSamples(k)
          .setTemperature(1.0f)
          .setTopK(0)
          .setTopP(1.0f)
          .setMaxNewTokens(maxNewTokens)
          .setPolicyVersion(0)
          .setSeed(1000 + i)
          .setCreatedAt(Instant.now())
          .build());
    }
    return out;
  }

  void send(List<RolloutRequest> requests) throws Exception {
    var serializer = Topics.ROLLOUT_REQUESTS.valueSerde().serializer();
    String topic = Topics.ROLLOUT_REQUESTS.defaultName();
    try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
        new StringSerializer(), new ByteArraySerializer())) {
      for (RolloutRequest r : requests) {
        p.send(new ProducerRecord<>(topic, r.getProblemId(), serializer.serialize(topic, r)));
      }
      p.flush();
    }
  }

  ServiceProcess startSampler(String logName, int batchSize) {
    return startSampler(logName, batchSize, 1);
  }

  /** A sampler generating {@code parallelism} batches at the same time. */
  ServiceProcess startSampler(String logName, int batchSize, int parallelism) {
    ServiceProcess s = ServiceProcess.start("sampler-service", Path.of("target", "quarkus-app", "quarkus-run.jar"),
        LocalKafkaBroker.freePort(),
        Map.of("reft.sampler.run-id", RUN, "reft.sampler.batch-size", Integer.toString(batchSize),
            "reft.sampler.threads", "1", "reft.sampler.instance-id", "it",
            "reft.sampler.parallelism", Integer.toString(parallelism)),
        Map.of("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers()), "1g", dir.resolve(logName));
    s.awaitReady(Duration.ofSeconds(120));
    return s;
  }

  /** This run's sampled trajectories, read_committed, once at least {@code n} of them are there (or on timeout). */
  List<SampledTrajectory> readSampled(Duration timeout, int n) {
    java.util.function.Function<List<org.apache.kafka.clients.consumer.ConsumerRecord<String, SampledTrajectory>>,
        List<SampledTrajectory>> mine = got -> got.stream().map(r -> r.value())
            .filter(t -> RUN.equals(t.getRunId())).toList();
    return mine.apply(TestReader.read(broker, Topics.TRAJECTORIES_SAMPLED, timeout, got -> mine.apply(got).size() >= n));
  }

  /** The training forward's log-probs of a trajectory's response tokens under a model. */
  static float[] trainingLogProbs(PolicyModel model, SampledTrajectory t) {
    int[] prompt = t.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray();
    int[] response = t.getResponseTokenIds().stream().mapToInt(Integer::intValue).toArray();
    int[] all = new int[prompt.length + response.length];
    System.arraycopy(prompt, 0, all, 0, prompt.length);
    System.arraycopy(response, 0, all, prompt.length, response.length);
    try (NDManager m = model.newBatchManager()) {
      TokenBatch b = TokenBatch.rightPadded(m, List.of(all), 0);
      NDArray logProbs = TokenLogProbs.nextTokenLogProbs(model.forward(b.tokens(), b.attentionMask()).logits(), b.tokens());
      float[] flat = logProbs.toFloatArray(); // (1, T-1): entry s-1 predicts token s
      float[] out = new float[response.length];
      System.arraycopy(flat, prompt.length - 1, out, 0, response.length);
      return out;
    }
  }
}
