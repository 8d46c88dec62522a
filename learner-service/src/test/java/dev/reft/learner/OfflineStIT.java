package dev.reft.learner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.kafka.local.LocalKafkaBroker;
import dev.reft.kafka.local.ServiceProcess;
import dev.reft.kafka.local.WithKafkaBroker;
import dev.reft.learner.eval.Evaluator;
import dev.reft.learner.store.CheckpointStore;
import dev.reft.learner.store.LearnerState;
import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.FinishReason;
import dev.reft.schemas.Outcome;
import dev.reft.schemas.RewardedTrajectory;
import dev.reft.schemas.SampledTrajectory;
import dev.reft.schemas.Topics;
import dev.reft.tasks.Problem;
import dev.reft.tasks.Prompts;
import dev.reft.tasks.synthetic.SyntheticConfig;
import dev.reft.tasks.synthetic.SyntheticTask;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Offline-ST replays the rewarded topic and trains only on the source run's CORRECT chains of thought. */
@WithKafkaBroker
class OfflineStIT {

  @Test
  void trainsOnlyOnTheCorrectTrajectoriesOfTheReplayedRun(LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
    broker.createTopics(Topics.newTopics(key -> Optional.empty(), (short) 1));
    Path checkpoints = dir.resolve("checkpoints");
    List<Problem> problems = SyntheticTask.generate(SyntheticConfig.defaults(SyntheticConfig.Task.ORDERS, 5).withSizes(60, 10, 5))
        .train(CotStyle.NCOT);
    PolicyTokenizer tokenizer = TokenizerBuilder.builder().build(TrainingData.corpus(problems, CotStyle.NCOT));
    try (PolicyModel model = PolicyModel.create(ModelConfig.tiny(tokenizer.vocabSize()), 9)) {
      Checkpoint.writer(model, tokenizer).metadata("version", "0").metadata("mode", "sft")
          .write(new CheckpointStore(checkpoints, "source", 5).directory(0));
    }

    int correct = 0;
    try (KafkaProducer<String, RewardedTrajectory> producer = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new StringSerializer(),
        Topics.TRAJECTORIES_REWARDED.valueSerde().serializer())) {
      // Every send is acknowledged before going on, so a lost input fails here and not as a wrong count.
      for (int i = 0; i < problems.size(); i++) {
        Problem p = problems.get(i);
        Outcome outcome = i % 3 == 0 ? Outcome.CORRECT : i % 3 == 1 ? Outcome.WRONG : Outcome.NO_ANSWER;
        correct += outcome == Outcome.CORRECT ? 1 : 0;
        producer.send(new ProducerRecord<>(Topics.TRAJECTORIES_REWARDED.defaultName(), p.id(),
            rewarded("source", p, tokenizer, outcome, i))).get();
        // The same problems graded for another run must not be replayed into this one.
        producer.send(new ProducerRecord<>(Topics.TRAJECTORIES_REWARDED.defaultName(), p.id(),
            rewarded("other", p, tokenizer, Outcome.CORRECT, i))).get();
      }
    }

    try (ServiceProcess learner = ServiceProcess.start("learner-service",
        Path.of("target", "quarkus-app", "quarkus-run.jar"), LocalKafkaBroker.freePort(),
        Map.ofEntries(
            Map.entry("reft.learner.mode", "offline-st"),
            Map.entry("reft.learner.run-id", "offline"),
            Map.entry("reft.learner.offline-st.source-run", "source"),
            Map.entry("reft.learner.offline-st.epochs", "1"),
            Map.entry("reft.learner.checkpoint-dir", checkpoints.toString()),
            Map.entry("reft.learner.synthetic.task", "orders"),
            Map.entry("reft.learner.synthetic.train-size", "60"),
            Map.entry("reft.learner.synthetic.test-size", "10"),
            Map.entry("reft.learner.synthetic.hard-size", "5"),
            Map.entry("reft.learner.eval.voting-k", "0"),
            Map.entry("reft.learner.threads", "1")),
        Map.of("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers()), "2g", dir.resolve("offline-st.log"))) {
      assertThat(learner.process().waitFor(300, TimeUnit.SECONDS)).isTrue();
      assertThat(learner.process().exitValue()).as("log:%n%s", learner.tail(40)).isZero();
      assertThat(learner.tail(200)).contains("keeping the " + correct + " CORRECT ones");
    }
    CheckpointStore offline = new CheckpointStore(checkpoints, "offline", 5);
    assertThat(offline.open(0).orElseThrow().identity()).as("version 0 is the starting policy")
        .isNotEqualTo(offline.open(1).orElseThrow().identity());
    Checkpoint result = offline.open(1).orElseThrow();
    LearnerState state = LearnerState.fromJson(result.read(CheckpointStore.STATE));
    assertThat(state.mode()).isEqualTo("offline-st");
    assertThat(state.counters()).containsEntry("replayed_correct", (long) correct);
  }

  private static RewardedTrajectory rewarded(String run, Problem p, PolicyTokenizer tokenizer, Outcome outcome, int i) {
    List<Integer> prompt = new ArrayList<>();
    for (int id : Evaluator.promptIds(tokenizer, CotStyle.NCOT, p.question())) {
      prompt.add(id);
    }
    List<Integer> response = new ArrayList<>();
    List<Float> logProbs = new ArrayList<>();
    for (int id : tokenizer.encode(Prompts.target(p))) {
      response.add(id);
      logProbs.add(-0.5f);
    }
    response.add(tokenizer.eos());
    logProbs.add(-0.1f);
    Instant now = Instant.now();
    SampledTrajectory t = SampledTrajectory.newBuilder()
        .setRunId(run).setRequestId(run + "-r" + i).setSampleIndex(0).setProblemId(p.id()).setDataset(p.dataset())
        .setQuestion(p.question()).setGoldAnswer(p.goldAnswer()).setStyle(CotStyle.NCOT)
        .setPromptTokenIds(prompt).setResponseTokenIds(response).setResponseText(Prompts.target(p))
        .setBehaviourLogprobs(logProbs).setFinishReason(FinishReason.EOS).setPolicyVersion(0).setTemperature(1f)
        .setSamplerId("test").setRequestCreatedAt(now).setSamplingMillis(1).setCreatedAt(now).build();
    float reward = outcome == Outcome.CORRECT ? 1f : outcome == Outcome.WRONG ? 0.1f : 0f;
    return RewardedTrajectory.newBuilder().setTrajectory(t).setReward(reward).setOutcome(outcome)
        .setExecutionMicros(1).setRewardRule("reft-v1").setScorerId("test").setCreatedAt(now).build();
  }
}
