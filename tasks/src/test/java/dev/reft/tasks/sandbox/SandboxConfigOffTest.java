package dev.reft.tasks.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code reft.sandbox.mode=off}: recognised, and refused with a clear message where programs must run. */
class SandboxConfigOffTest {

  @Test
  void offIsRecognisedInAnyCase() {
    assertThat(SandboxConfig.off(key -> Optional.ofNullable(Map.of("reft.sandbox.mode", " OFF ").get(key)))).isTrue();
    assertThat(SandboxConfig.off(key -> Optional.ofNullable(Map.of("reft.sandbox.mode", "pooled").get(key)))).isFalse();
    assertThat(SandboxConfig.off(key -> Optional.empty())).isFalse();
  }

  @Test
  void aSandboxCannotBeConfiguredWhenItIsOff() {
    assertThatThrownBy(() -> SandboxConfig.from(key -> Optional.ofNullable(Map.of("reft.sandbox.mode", "off").get(key))))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("reft.sandbox.mode=off");
  }
}
