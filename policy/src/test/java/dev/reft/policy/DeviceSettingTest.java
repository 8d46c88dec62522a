package dev.reft.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code reft.policy.device}: auto, cpu, gpu — and gpu refused clearly where there is none. */
class DeviceSettingTest {

  @AfterEach
  void reset() {
    PolicyRuntime.configureDevice("auto");
  }

  @Test
  void cpuPutsEveryNewModelOnTheCpu() {
    assertThat(PolicyRuntime.configureDevice("CPU")).isEqualTo(Device.cpu());
    try (PolicyModel model = PolicyModel.create(ModelConfig.tiny(20), 1)) {
      assertThat(model.device()).isEqualTo(Device.cpu());
    }
  }

  @Test
  void autoIsTheGpuWhenThereIsOneElseTheCpu() {
    Device expected = PolicyRuntime.engine().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    assertThat(PolicyRuntime.configureDevice("auto")).isEqualTo(expected);
    assertThat(PolicyRuntime.defaultDevice()).isEqualTo(expected);
  }

  @Test
  void gpuIsRefusedWithAReasonWhereThereIsNone() {
    if (PolicyRuntime.engine().getGpuCount() > 0) {
      assertThat(PolicyRuntime.configureDevice("gpu")).isEqualTo(Device.gpu());
      return;
    }
    assertThatThrownBy(() -> PolicyRuntime.configureDevice("gpu")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("reft.policy.device=gpu").hasMessageContaining("sees no GPU").hasMessageContaining("policy/README.md");
    assertThat(PolicyRuntime.defaultDevice()).as("the refused setting was not kept").isEqualTo(Device.cpu());
  }

  @Test
  void anUnknownSettingIsRefused() {
    assertThatThrownBy(() -> PolicyRuntime.configureDevice("tpu")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("auto, cpu or gpu").hasMessageContaining("tpu");
  }
}
