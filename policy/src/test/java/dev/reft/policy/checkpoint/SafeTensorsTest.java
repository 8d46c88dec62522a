package dev.reft.policy.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.reft.policy.PolicyRuntime;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SafeTensorsTest {

  @Test
  void roundTripsFloat32AndFloat64WithMetadata() {
    try (NDManager m = PolicyRuntime.engine().newBaseManager()) {
      NDArray a = m.create(new float[] {1.5f, -2f, 3.25f, 0f, 1e-8f, 7f}, new Shape(2, 3));
      NDArray b = m.create(new double[] {Math.PI, -Math.E}, new Shape(2));
      byte[] bytes = SafeTensors.write(Map.of("b", b, "a", a), Map.of("step", "3"));
      SafeTensors.Content c = SafeTensors.read(bytes, m);
      assertThat(c.tensors().keySet()).containsExactly("a", "b");
      assertThat(c.tensors().get("a").getShape()).isEqualTo(new Shape(2, 3));
      assertThat(c.tensors().get("a").toFloatArray()).containsExactly(a.toFloatArray());
      assertThat(c.tensors().get("b").toDoubleArray()).containsExactly(Math.PI, -Math.E);
      assertThat(c.metadata()).containsEntry("step", "3");
      assertThat(SafeTensors.write(Map.of("a", a, "b", b), Map.of("step", "3"))).isEqualTo(bytes);
    }
  }

  @Test
  void readsHalfPrecisionAsFloat32() {
    // 1.0, -2.0, 0.5 in F16 (0x3C00, 0xC000, 0x3800) and in BF16 (0x3F80, 0xC000, 0x3F00).
    byte[] f16 = file("F16", new short[] {0x3C00, (short) 0xC000, 0x3800});
    byte[] bf16 = file("BF16", new short[] {0x3F80, (short) 0xC000, 0x3F00});
    try (NDManager m = PolicyRuntime.engine().newBaseManager()) {
      for (byte[] bytes : new byte[][] {f16, bf16}) {
        NDArray x = SafeTensors.read(bytes, m).tensors().get("x");
        assertThat(x.getDataType()).isEqualTo(DataType.FLOAT32);
        assertThat(x.toFloatArray()).containsExactly(1f, -2f, 0.5f);
      }
    }
    assertThat(SafeTensors.halfToFloat((short) 0x0001)).isEqualTo(0x1.0p-24f); // smallest subnormal
    assertThat(SafeTensors.halfToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
  }

  @Test
  void rejectsInconsistentLayouts() {
    try (NDManager m = PolicyRuntime.engine().newBaseManager()) {
      byte[] good = file("F16", new short[] {1, 2, 3});
      byte[] truncated = java.util.Arrays.copyOf(good, good.length - 2);
      assertThatThrownBy(() -> SafeTensors.read(truncated, m)).hasMessageContaining("data_offsets");
      byte[] longer = java.util.Arrays.copyOf(good, good.length + 2);
      assertThatThrownBy(() -> SafeTensors.read(longer, m)).hasMessageContaining("trailing bytes");
      assertThatThrownBy(() -> SafeTensors.read(new byte[] {1, 2, 3}, m)).hasMessageContaining("no header");
    }
  }

  @Test
  void streamsOneTensorAtATimeHashingEveryByteReadOrSkipped() throws Exception {
    try (NDManager m = PolicyRuntime.engine().newBaseManager()) {
      NDArray a = m.create(new float[] {1, 2, 3, 4}, new Shape(2, 2));
      NDArray b = m.create(new float[] {5, 6, 7}, new Shape(3));
      NDArray c = m.create(new float[] {8}, new Shape(1));
      java.io.ByteArrayOutputStream streamed = new java.io.ByteArrayOutputStream();
      SafeTensors.write(Map.of("a", a, "b", b, "c", c), Map.of(), streamed);
      byte[] bytes = streamed.toByteArray();
      assertThat(bytes).isEqualTo(SafeTensors.write(Map.of("a", a, "b", b, "c", c), Map.of()));

      java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
      java.util.List<String> seen = new java.util.ArrayList<>();
      java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
      SafeTensors.stream(java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(bytes)), bytes.length, digest,
          (entry, data) -> {
            seen.add(entry.name() + entry.shape());
            if (entry.name().equals("b")) {
              assertThat(data.read(m).toFloatArray()).containsExactly(5, 6, 7);
            } else if (entry.name().equals("c")) {
              data.copyTo(java.nio.channels.Channels.newChannel(raw));
            } // "a" is skipped
          });
      assertThat(seen).containsExactly("a(2, 2)", "b(3)", "c(1)");
      assertThat(ByteBuffer.wrap(raw.toByteArray()).order(ByteOrder.LITTLE_ENDIAN).getFloat()).isEqualTo(8f);
      assertThat(java.util.HexFormat.of().formatHex(digest.digest())).isEqualTo(Checkpoint.sha256(bytes));
    }
  }

  static byte[] file(String dtype, short[] values) {
    String header = "{\"x\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + values.length + "],\"data_offsets\":[0," + 2 * values.length + "]}}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(8 + json.length + 2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(json.length).put(json);
    for (short v : values) {
      out.putShort(v);
    }
    return out.array();
  }
}
