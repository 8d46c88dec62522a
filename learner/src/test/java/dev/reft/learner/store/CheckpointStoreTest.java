package dev.reft.learner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reft.policy.ModelConfig;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.checkpoint.Checkpoint;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import dev.reft.policy.tokenizer.TokenizerBuilder;
import dev.reft.policy.train.AdamW;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run's checkpoints on disk: pruning, lookup, and what a checkpoint carries for an exact resume. */
class CheckpointStoreTest {

  private static PolicyTokenizer tokenizer;
  private static PolicyModel model;

  @TempDir
  Path root;

  @BeforeAll
  static void tinyModel() {
    tokenizer = TokenizerBuilder.builder().build(List.of("Tom has 3 apples.", "The answer is 7"));
    model = PolicyModel.create(ModelConfig.tiny(tokenizer.vocabSize()), 1);
  }

  @AfterAll
  static void close() {
    model.close();
    tokenizer.close();
  }

  private static LearnerState state(long version) {
    return LearnerState.outsideTheLoop("run-a", "ppo", version, 10 * version, Map.of());
  }

  @Test
  void keepsTheLastNAndAlwaysVersionZero() throws IOException {
    CheckpointStore store = new CheckpointStore(root, "run-a", 3);
    for (long v = 0; v <= 7; v++) {
      store.write(v, model, tokenizer, null, state(v));
    }
    assertThat(store.versions()).containsExactly(0L, 5L, 6L, 7L);
    try (Stream<Path> dirs = Files.list(root.resolve("run-a"))) {
      assertThat(dirs.map(d -> d.getFileName().toString()))
          .containsExactlyInAnyOrder("v000000", "v000005", "v000006", "v000007");
    }
    assertThat(store.runDir()).isEqualTo(root.toAbsolutePath().normalize().resolve("run-a"));
    assertThat(store.directory(5)).isEqualTo(store.runDir().resolve("v000005"));

    assertThat(store.newest()).get().extracting(c -> c.metadata().get("version")).isEqualTo("7");
    assertThat(store.open(4)).as("a pruned version").isEmpty();
    assertThat(store.open(1)).as("a pruned version").isEmpty();
    assertThat(store.open(0)).get().extracting(c -> c.metadata().get("version")).isEqualTo("0");
    assertThat(store.open(6)).get().extracting(Checkpoint::directory).isEqualTo(store.directory(6));
  }

  @Test
  void anEmptyStoreHasNoVersionsAndNoNewest() throws IOException {
    CheckpointStore store = new CheckpointStore(root, "nothing-yet", 2);
    assertThat(store.versions()).isEmpty();
    assertThat(store.newest()).isEmpty();
    assertThat(store.open(0)).isEmpty();
  }

  @Test
  void newestSkipsADamagedCheckpoint() throws IOException {
    CheckpointStore store = new CheckpointStore(root, "run-a", 5);
    for (long v = 0; v <= 2; v++) {
      store.write(v, model, tokenizer, null, state(v));
    }
    Path weights = store.directory(2).resolve(Checkpoint.WEIGHTS);
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length - 1] ^= 0x55;
    Files.write(weights, bytes);

    assertThat(store.newest()).get().extracting(c -> c.metadata().get("version")).isEqualTo("1");
  }

  @Test
  void aTruncatedCheckpointIsRefusedAndTheNewestGoodOneIsUsed() throws IOException {
    CheckpointStore store = new CheckpointStore(root, "run-a", 5);
    for (long v = 0; v <= 3; v++) {
      store.write(v, model, tokenizer, null, state(v));
    }
    Path weights = store.directory(3).resolve(Checkpoint.WEIGHTS);
    byte[] bytes = Files.readAllBytes(weights);
    Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length / 2)); // a copy cut short
    assertThatThrownBy(() -> Checkpoint.open(store.directory(3)))
        .isInstanceOf(dev.reft.policy.checkpoint.CheckpointIntegrityException.class)
        .hasMessageContaining("model.safetensors").hasMessageContaining((bytes.length / 2) + " bytes")
        .hasMessageContaining("modified or corrupted");
    Path manifest = store.directory(2).resolve(Checkpoint.MANIFEST);
    byte[] m = Files.readAllBytes(manifest);
    Files.write(manifest, java.util.Arrays.copyOf(m, m.length / 3));
    assertThatThrownBy(() -> Checkpoint.open(store.directory(2)))
        .isInstanceOf(dev.reft.policy.checkpoint.CheckpointIntegrityException.class)
        .hasMessageContaining("checkpoint " + store.directory(2));
    assertThat(store.newest()).get().extracting(c -> c.metadata().get("version")).isEqualTo("1");
  }

  @Test
  void aWriteThatFailsMidwayLeavesNoVersionAndTheLastGoodOneStaysNewest() throws IOException {
    CheckpointStore store = new CheckpointStore(root, "run-a", 3);
    store.write(0, model, tokenizer, null, state(0));
    store.write(1, model, tokenizer, null, state(1));
    // Config, tokenizer and weights are written, then the next file fails (as a full disk would fail a write):
    // here its source is a directory, which cannot be read as a file.
    Path unreadable = Files.createDirectories(root.resolve("not-a-file"));
    assertThatThrownBy(() -> Checkpoint.writer(model, tokenizer).file(CheckpointStore.STATE, state(2).toJson())
        .file(CheckpointStore.OPTIMIZER, unreadable).write(store.directory(2)))
        .isInstanceOf(IOException.class);

    assertThat(store.versions()).containsExactly(0L, 1L);
    try (Stream<Path> children = Files.list(store.runDir())) {
      assertThat(children.map(p -> p.getFileName().toString()))
          .as("no partial or temporary directory is left").containsExactlyInAnyOrder("v000000", "v000001");
    }
    assertThat(store.newest()).get().extracting(c -> c.metadata().get("version")).isEqualTo("1");
    // The version can be written again once the disk has room (a restarted learner redoes the update).
    store.write(2, model, tokenizer, null, state(2));
    assertThat(store.newest()).get().extracting(c -> c.metadata().get("version")).isEqualTo("2");
  }

  @Test
  void aVersionIsNeverOverwritten() throws IOException {
    CheckpointStore store = new CheckpointStore(root, "run-a", 3);
    store.write(4, model, tokenizer, null, state(4));
    assertThatThrownBy(() -> store.write(4, model, tokenizer, null, state(99)))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThat(LearnerState.fromJson(store.open(4).orElseThrow().read(CheckpointStore.STATE)).step()).isEqualTo(40);
  }

  @Test
  void theLearnerStateRoundTrips() throws IOException {
    LearnerState written = new LearnerState("run-b", "ppo", 12, 345, -8_765_432_101L, 3, 17, "inc42", 901,
        Map.of(0, 1200L, 1, 77L), Map.of(1, List.of(70L, 72L, 75L)), Map.of(0, 5000L, 2, 6L),
        List.of(new LearnerState.InFlightRequest("run-b.inc42-r900", 8, List.of(0, 2, 5), 1_700_000_000_123L, 11, 2, 17)),
        Map.of("dropped_stale", 4L, "duplicates", 1L));
    CheckpointStore store = new CheckpointStore(root, "run-b", 3);
    Checkpoint c = store.write(12, model, tokenizer, null, written);

    assertThat(c.metadata()).containsEntry("run_id", "run-b").containsEntry("version", "12")
        .containsEntry("mode", "ppo").containsEntry("step", "345");
    LearnerState read = LearnerState.fromJson(store.open(12).orElseThrow().read(CheckpointStore.STATE));
    assertThat(read).isEqualTo(written);
    assertThat(read.rewardedOffsets()).containsEntry(0, 1200L).containsEntry(1, 77L);
    assertThat(read.pendingOffsets().get(1)).containsExactly(70L, 72L, 75L);
    assertThat(read.inFlight().get(0).received()).containsExactly(0, 2, 5);
  }

  @Test
  void theOptimizerFileIsThereOnlyWhenAnOptimizerWasPassed() throws IOException {
    CheckpointStore store = new CheckpointStore(root, "run-c", 3);
    try (AdamW optimizer = AdamW.builder().setModel(model).setLearningRate(3e-4).build()) {
      store.write(0, model, tokenizer, optimizer, state(0));
      Checkpoint with = store.open(0).orElseThrow();
      assertThat(with.files()).contains(CheckpointStore.OPTIMIZER, CheckpointStore.STATE);
      assertThat(with.read(CheckpointStore.OPTIMIZER)).isEqualTo(optimizer.saveState());
    }
    store.write(1, model, tokenizer, null, state(1));
    Checkpoint without = store.open(1).orElseThrow();
    assertThat(without.files()).contains(CheckpointStore.STATE).doesNotContain(CheckpointStore.OPTIMIZER);
    assertThat(Files.exists(store.directory(1).resolve(CheckpointStore.OPTIMIZER))).isFalse();
  }

  @Test
  void readsAStateWrittenBeforeProblemsWereRecorded() {
    String old = "{\"run_id\":\"r\",\"mode\":\"reft\",\"version\":3,\"step\":3,\"rng_state\":1,\"data_epoch\":0,"
        + "\"data_position\":4,\"incarnation\":\"x\",\"next_request_seq\":4,\"rewarded_offsets\":{\"0\":10},"
        + "\"request_offsets\":{\"0\":4},\"in_flight\":[{\"request_id\":\"r.x-r3\",\"samples\":4,\"received\":[1],"
        + "\"issued_at_ms\":5,\"issued_version\":2}],\"counters\":{}}";
    LearnerState s = LearnerState.fromJson(old.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(s.inFlight().get(0).problem()).isEqualTo(-1);
    assertThat(s.inFlight().get(0).held()).isZero();
    assertThat(s.pendingOffsets()).isEmpty();
  }
}
