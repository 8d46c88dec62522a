package dev.reft.sampler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** How a poll's sequences are split into generation batches ({@link SamplingLoop#batches}). */
class GenerationBatchesTest {

  private static List<Integer> jobs(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  private static List<Integer> sizes(List<List<Integer>> batches) {
    return batches.stream().map(List::size).toList();
  }

  @Test
  void oneThreadTakesAsFewBatchesAsTheBatchSizeAllows() {
    assertThat(sizes(SamplingLoop.batches(jobs(128), 64, 1))).containsExactly(64, 64);
    assertThat(sizes(SamplingLoop.batches(jobs(130), 64, 1))).containsExactly(43, 43, 44);
    assertThat(sizes(SamplingLoop.batches(jobs(5), 64, 1))).containsExactly(5);
  }

  @Test
  void severalThreadsGetAtLeastOneNearEqualBatchEach() {
    assertThat(sizes(SamplingLoop.batches(jobs(64), 64, 2))).containsExactly(32, 32);
    assertThat(sizes(SamplingLoop.batches(jobs(7), 64, 2))).containsExactly(3, 4);
    assertThat(sizes(SamplingLoop.batches(jobs(128), 32, 2))).containsExactly(32, 32, 32, 32);
    assertThat(sizes(SamplingLoop.batches(jobs(1), 64, 4))).containsExactly(1);
  }

  @Test
  void keepsEveryJobOnceAndInOrder() {
    List<List<Integer>> batches = SamplingLoop.batches(jobs(101), 16, 3);
    assertThat(batches.stream().flatMap(List::stream).toList()).isEqualTo(jobs(101));
    assertThat(batches).allSatisfy(b -> assertThat(b.size()).isBetween(1, 16));
  }
}
