package dev.reft.policy.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RngTest {

  @Test
  void matchesTheSplitMix64ReferenceOutputs() {
    // Reference values of Vigna's splitmix64.c, seeds 0 and 12345.
    Rng zero = new Rng(0);
    assertThat(zero.nextLong()).isEqualTo(0xe220a8397b1dcdafL);
    assertThat(zero.nextLong()).isEqualTo(0x6e789e6aa1b965f4L);
    assertThat(zero.nextLong()).isEqualTo(0x06c45d188009454fL);
    Rng other = new Rng(12345);
    assertThat(other.nextLong()).isEqualTo(0x22118258a9d111a0L);
    assertThat(other.nextLong()).isEqualTo(0x346edce5f713f8edL);
  }

  @Test
  void savedStateContinuesTheSameSequence() {
    Rng rng = Rng.stream(42, 3);
    rng.nextDouble();
    Rng restored = Rng.fromState(rng.state());
    for (int i = 0; i < 10; i++) {
      assertThat(restored.nextLong()).isEqualTo(rng.nextLong());
    }
  }

  @Test
  void streamsDifferAndUniformsAndGaussiansHaveTheRightMoments() {
    assertThat(Rng.stream(1, 0).nextLong()).isNotEqualTo(Rng.stream(1, 1).nextLong());
    Rng rng = new Rng(9);
    int n = 200_000;
    double sum = 0;
    double gaussSum = 0;
    double gaussSq = 0;
    int[] buckets = new int[7];
    for (int i = 0; i < n; i++) {
      double u = rng.nextDouble();
      assertThat(u).isGreaterThanOrEqualTo(0).isLessThan(1);
      sum += u;
      double g = rng.nextGaussian();
      gaussSum += g;
      gaussSq += g * g;
      buckets[rng.nextInt(7)]++;
    }
    assertThat(sum / n).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.005));
    assertThat(gaussSum / n).isCloseTo(0, org.assertj.core.data.Offset.offset(0.01));
    assertThat(gaussSq / n).isCloseTo(1, org.assertj.core.data.Offset.offset(0.02));
    for (int count : buckets) {
      assertThat(count / (double) n).isCloseTo(1 / 7.0, org.assertj.core.data.Offset.offset(0.005));
    }
  }

  @Test
  void permutationIsAShuffleOfEveryIndexAndSeeded() {
    int[] p = Rng.stream(5, 1).permutation(100);
    assertThat(p).containsExactlyInAnyOrder(java.util.stream.IntStream.range(0, 100).toArray());
    assertThat(p).isEqualTo(Rng.stream(5, 1).permutation(100));
    assertThat(p).isNotEqualTo(java.util.stream.IntStream.range(0, 100).toArray());
    assertThat(new Rng(1).permutation(0)).isEmpty();
  }
}
