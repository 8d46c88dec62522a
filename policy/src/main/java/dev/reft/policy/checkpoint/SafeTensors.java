package dev.reft.policy.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON header ({@code name → {dtype, shape, data_offsets: [begin, end]}} plus an
 * optional {@code __metadata__} string map), then the raw little-endian tensor bytes, offsets relative
 * to the end of the header. The header is padded with spaces to a multiple of 8 bytes.
 *
 * <p>Writing is deterministic (tensors sorted by name, fixed JSON), so equal weights give equal bytes and
 * equal SHA-256. Reading validates the layout: offsets in range, contiguous, matching dtype × shape.
 * Supported dtypes: F32, F64 (written as stored); F16 / BF16 are read and widened to F32.
 */
public final class SafeTensors {

  /** The tensors and the metadata of one file. */
  public record Content(Map<String, NDArray> tensors, Map<String, String> metadata) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String METADATA = "__metadata__";

  private SafeTensors() {}

  /**
   * Serialises tensors.
   *
   * @param tensors name → array (F32 or F64, any device; copied to the host)
   * @param metadata free-form strings stored in the header's {@code __metadata__}
   * @return the file's bytes
   */
  public static byte[] write(Map<String, NDArray> tensors, Map<String, String> metadata) {
    Map<String, NDArray> sorted = new TreeMap<>(tensors);
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject(METADATA);
    new TreeMap<>(metadata).forEach(meta::put);
    long offset = 0;
    Map<String, byte[]> data = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : sorted.entrySet()) {
      NDArray array = e.getValue();
      String dtype = dtypeName(array.getDataType());
      byte[] bytes = littleEndianBytes(array);
      ObjectNode entry = header.putObject(e.getKey());
      entry.put("dtype", dtype);
      ArrayNode shape = entry.putArray("shape");
      for (long dim : array.getShape().getShape()) {
        shape.add(dim);
      }
      entry.putArray("data_offsets").add(offset).add(offset + bytes.length);
      offset += bytes.length;
      data.put(e.getKey(), bytes);
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(header);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(padded);
    out.put(json);
    for (int i = json.length; i < padded; i++) {
      out.put((byte) ' ');
    }
    for (byte[] bytes : data.values()) {
      out.put(bytes);
    }
    return out.array();
  }

  /**
   * Parses a file.
   *
   * @param bytes the file's content
   * @param manager where the arrays are created (fixes the device)
   * @return the tensors in file order and the metadata
   * @throws IllegalArgumentException when the layout is invalid
   */
  public static Content read(byte[] bytes, NDManager manager) {
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 8) {
      throw new IllegalArgumentException("safetensors: file of " + bytes.length + " bytes has no header");
    }
    long headerLength = in.getLong();
    if (headerLength < 2 || headerLength > bytes.length - 8L) {
      throw new IllegalArgumentException("safetensors: header length " + headerLength + " does not fit a file of " + bytes.length + " bytes");
    }
    int dataStart = 8 + (int) headerLength;
    JsonNode header;
    try {
      header = JSON.readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalArgumentException("safetensors: header is not JSON: " + e.getMessage(), e);
    }
    if (header == null || !header.isObject()) {
      throw new IllegalArgumentException("safetensors: header is not a JSON object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    if (header.has(METADATA)) {
      metadata.putAll(JSON.convertValue(header.get(METADATA), new TypeReference<Map<String, String>>() {}));
    }
    // Entries sorted by begin offset must tile the data section exactly.
    TreeMap<Long, String> byOffset = new TreeMap<>();
    for (Iterator<String> it = header.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!name.equals(METADATA)) {
        JsonNode offsets = header.get(name).path("data_offsets");
        if (!offsets.isArray() || offsets.size() != 2) {
          throw new IllegalArgumentException("safetensors: tensor '" + name + "' has no data_offsets");
        }
        if (byOffset.put(offsets.get(0).asLong(), name) != null) {
          throw new IllegalArgumentException("safetensors: two tensors start at offset " + offsets.get(0).asLong());
        }
      }
    }
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    long expected = 0;
    for (String name : byOffset.values()) {
      JsonNode entry = header.get(name);
      DataType type = dataType(entry.path("dtype").asText(), name);
      long[] dims = new long[entry.path("shape").size()];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = entry.path("shape").get(i).asLong();
      }
      Shape shape = new Shape(dims);
      long begin = entry.path("data_offsets").get(0).asLong();
      long end = entry.path("data_offsets").get(1).asLong();
      long size = shape.size() * type.getNumOfBytes();
      if (begin != expected || end - begin != size || dataStart + end > bytes.length) {
        throw new IllegalArgumentException(
            "safetensors: tensor '" + name + "' " + shape + " " + type + " has data_offsets [" + begin + ", " + end + "], expected [" + expected + ", " + (expected + size) + "] within the file");
      }
      ByteBuffer slice = ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) size).slice().order(ByteOrder.LITTLE_ENDIAN);
      tensors.put(name, toArray(manager, slice, shape, type));
      expected = end;
    }
    if (dataStart + expected != bytes.length) {
      throw new IllegalArgumentException("safetensors: " + (bytes.length - dataStart - expected) + " trailing bytes after the last tensor");
    }
    return new Content(tensors, metadata);
  }

  private static NDArray toArray(NDManager manager, ByteBuffer le, Shape shape, DataType type) {
    switch (type) {
      case FLOAT32:
        return manager.create(le.asFloatBuffer(), shape, DataType.FLOAT32);
      case FLOAT64:
        return manager.create(le.asDoubleBuffer(), shape, DataType.FLOAT64);
      case FLOAT16:
      case BFLOAT16:
        // Widened to float32 in Java: half-precision arrays are not safe to create on this CPU build.
        float[] widened = new float[le.remaining() / 2];
        for (int i = 0; i < widened.length; i++) {
          short bits = le.getShort(i * 2);
          widened[i] = type == DataType.BFLOAT16 ? Float.intBitsToFloat((bits & 0xFFFF) << 16) : halfToFloat(bits);
        }
        return manager.create(widened, shape);
      default:
        throw new IllegalArgumentException("safetensors: unsupported dtype " + type);
    }
  }

  /** IEEE 754 binary16 → binary32 (exact). */
  static float halfToFloat(short half) {
    int bits = half & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1F;
    int mantissa = bits & 0x3FF;
    if (exponent == 0x1F) { // infinity or NaN
      return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
    }
    if (exponent == 0) { // zero or subnormal: mantissa · 2^-24
      float magnitude = mantissa * 0x1.0p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  private static byte[] littleEndianBytes(NDArray array) {
    ByteBuffer raw = array.toByteBuffer().order(ByteOrder.nativeOrder());
    byte[] out = new byte[raw.remaining()];
    ByteBuffer le = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    if (array.getDataType() == DataType.FLOAT32) {
      le.asFloatBuffer().put(raw.asFloatBuffer());
    } else {
      le.asDoubleBuffer().put(raw.asDoubleBuffer());
    }
    return out;
  }

  private static String dtypeName(DataType type) {
    return switch (type) {
      case FLOAT32 -> "F32";
      case FLOAT64 -> "F64";
      default -> throw new IllegalArgumentException("safetensors writer supports F32 and F64, not " + type);
    };
  }

  private static DataType dataType(String name, String tensor) {
    return switch (name) {
      case "F32" -> DataType.FLOAT32;
      case "F64" -> DataType.FLOAT64;
      case "F16" -> DataType.FLOAT16;
      case "BF16" -> DataType.BFLOAT16;
      default -> throw new IllegalArgumentException("safetensors: tensor '" + tensor + "' has unsupported dtype " + name);
    };
  }
}
