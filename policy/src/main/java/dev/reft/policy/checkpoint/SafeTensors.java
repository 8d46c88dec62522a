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
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
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
 * Supported dtypes: F32, F64 (written as stored); F16 / BF16 are read and widened to F32 in Java (DJL's
 * PyTorch CPU build crashes on BF16 arithmetic).
 *
 * <p>Large files are {@linkplain #stream streamed}: the header first, then one tensor at a time, which the
 * caller converts, copies into its parameter and drops, so loading a model never holds a second full copy
 * of its weights; {@link #write(Map, Map, OutputStream)} likewise writes one tensor's bytes at a time.
 * {@link #read(byte[], NDManager)} and {@link #write(Map, Map)} are the in-memory forms for small files
 * (optimizer state, tests).
 */
public final class SafeTensors {

  /** The tensors and the metadata of one file. */
  public record Content(Map<String, NDArray> tensors, Map<String, String> metadata) {}

  /**
   * One tensor of a file's header.
   *
   * @param name the tensor's name
   * @param dtype the stored type: F32, F64, F16 or BF16
   * @param shape its shape
   * @param begin offset of its first byte after the header
   * @param end offset after its last byte
   */
  public record Entry(String name, String dtype, Shape shape, long begin, long end) {
    /** @return the number of stored bytes */
    public long byteSize() {
      return end - begin;
    }
  }

  /**
   * A parsed header.
   *
   * @param tensors the tensors in data order (contiguous, validated against the file size)
   * @param metadata the {@code __metadata__} strings
   */
  public record Header(List<Entry> tensors, Map<String, String> metadata) {}

  /** Receives the tensors of a {@linkplain #stream streamed} file, one at a time, in data order. */
  @FunctionalInterface
  public interface TensorVisitor {
    /**
     * Called once per tensor. Read the data with {@code data} during the call, or leave it: unread bytes are
     * skipped (and still hashed).
     *
     * @param entry the header entry
     * @param data the tensor's bytes, readable once during this call
     * @throws IOException when reading fails
     */
    void tensor(Entry entry, TensorData data) throws IOException;
  }

  /** The bytes of the tensor being visited. */
  public interface TensorData {
    /**
     * Reads the tensor into a new array: F32 and F64 as stored, F16 and BF16 widened to F32.
     *
     * @param manager where the array is created
     * @return the array, shaped as the entry
     * @throws IOException when reading fails
     */
    NDArray read(NDManager manager) throws IOException;

    /**
     * Copies the stored bytes unchanged.
     *
     * @param out the destination
     * @throws IOException when reading or writing fails
     */
    void copyTo(WritableByteChannel out) throws IOException;
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String METADATA = "__metadata__";
  private static final int CHUNK = 1 << 20;
  private static final long MAX_HEADER = 100L << 20;

  private SafeTensors() {}

  /**
   * Serialises tensors.
   *
   * @param tensors name → array (F32 or F64, any device; copied to the host)
   * @param metadata free-form strings stored in the header's {@code __metadata__}
   * @return the file's bytes
   */
  public static byte[] write(Map<String, NDArray> tensors, Map<String, String> metadata) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      write(tensors, metadata, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Serialises tensors to a stream, one tensor's bytes at a time (the header needs only the shapes). The
   * bytes are the same as {@link #write(Map, Map)}'s.
   *
   * @param tensors name → array (F32 or F64, any device; copied to the host one at a time)
   * @param metadata free-form strings stored in the header's {@code __metadata__}
   * @param out where the file goes (not closed)
   * @throws IOException when writing fails
   */
  public static void write(Map<String, NDArray> tensors, Map<String, String> metadata, OutputStream out) throws IOException {
    Map<String, NDArray> sorted = new TreeMap<>(tensors);
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject(METADATA);
    new TreeMap<>(metadata).forEach(meta::put);
    long offset = 0;
    for (Map.Entry<String, NDArray> e : sorted.entrySet()) {
      NDArray array = e.getValue();
      String dtype = dtypeName(array.getDataType());
      long size = array.getShape().size() * array.getDataType().getNumOfBytes();
      ObjectNode entry = header.putObject(e.getKey());
      entry.put("dtype", dtype);
      ArrayNode shape = entry.putArray("shape");
      for (long dim : array.getShape().getShape()) {
        shape.add(dim);
      }
      entry.putArray("data_offsets").add(offset).add(offset + size);
      offset += size;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    prefix.putLong(padded);
    prefix.put(json);
    while (prefix.hasRemaining()) {
      prefix.put((byte) ' ');
    }
    out.write(prefix.array());
    WritableByteChannel channel = Channels.newChannel(out);
    for (NDArray array : sorted.values()) {
      ByteBuffer le = littleEndianBytes(array);
      while (le.hasRemaining()) {
        channel.write(le);
      }
    }
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
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    try {
      Map<String, String> metadata = stream(Channels.newChannel(new ByteArrayInputStream(bytes)), bytes.length, null,
          (entry, data) -> tensors.put(entry.name(), data.read(manager)));
      return new Content(tensors, metadata);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads and validates the header of a file without its data.
   *
   * @param file a safetensors file
   * @return its header
   * @throws IOException when the file cannot be read
   * @throws IllegalArgumentException when the layout is invalid (the message names the file)
   */
  public static Header header(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return readHeader(new Source(channel, null), channel.size(), file.toString());
    }
  }

  /**
   * Streams a file: parses and validates the header, then visits each tensor in data order; bytes a
   * visitor does not read are skipped. Every byte read or skipped goes through {@code digest}, so a caller
   * can verify the exact bytes it parsed.
   *
   * @param in the file's bytes, positioned at its start
   * @param fileSize the file's length in bytes
   * @param digest updated with every byte of the file, or null
   * @param visitor receives the tensors
   * @return the header's metadata
   * @throws IOException when reading fails or the data ends early
   * @throws IllegalArgumentException when the layout is invalid
   */
  public static Map<String, String> stream(ReadableByteChannel in, long fileSize, MessageDigest digest, TensorVisitor visitor)
      throws IOException {
    Source source = new Source(in, digest);
    Header header = readHeader(source, fileSize, "safetensors");
    for (Entry entry : header.tensors()) {
      long before = source.position;
      TensorData data = new TensorData() {
        @Override
        public NDArray read(NDManager manager) throws IOException {
          if (source.position != before) {
            throw new IllegalStateException("tensor '" + entry.name() + "' was already read");
          }
          return toArray(manager, source, entry);
        }

        @Override
        public void copyTo(WritableByteChannel out) throws IOException {
          if (source.position != before) {
            throw new IllegalStateException("tensor '" + entry.name() + "' was already read");
          }
          source.copy(entry.byteSize(), out);
        }
      };
      visitor.tensor(entry, data);
      long unread = before + entry.byteSize() - source.position;
      source.skip(unread);
    }
    return header.metadata();
  }

  private static Header readHeader(Source in, long fileSize, String what) throws IOException {
    if (fileSize < 8) {
      throw new IllegalArgumentException(what + ": file of " + fileSize + " bytes has no header");
    }
    ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    in.readFully(length);
    long headerLength = length.flip().getLong();
    if (headerLength < 2 || headerLength > fileSize - 8L || headerLength > MAX_HEADER) {
      throw new IllegalArgumentException(what + ": header length " + headerLength + " does not fit a file of " + fileSize + " bytes");
    }
    ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
    in.readFully(headerBytes);
    long dataStart = 8 + headerLength;
    JsonNode header;
    try {
      header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalArgumentException(what + ": header is not JSON: " + e.getMessage(), e);
    }
    if (header == null || !header.isObject()) {
      throw new IllegalArgumentException(what + ": header is not a JSON object");
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
          throw new IllegalArgumentException(what + ": tensor '" + name + "' has no data_offsets");
        }
        if (byOffset.put(offsets.get(0).asLong(), name) != null) {
          throw new IllegalArgumentException(what + ": two tensors start at offset " + offsets.get(0).asLong());
        }
      }
    }
    List<Entry> entries = new ArrayList<>();
    long expected = 0;
    for (String name : byOffset.values()) {
      JsonNode entry = header.get(name);
      String dtype = entry.path("dtype").asText();
      DataType type = dataType(dtype, name);
      long[] dims = new long[entry.path("shape").size()];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = entry.path("shape").get(i).asLong();
      }
      Shape shape = new Shape(dims);
      long begin = entry.path("data_offsets").get(0).asLong();
      long end = entry.path("data_offsets").get(1).asLong();
      long size = shape.size() * type.getNumOfBytes();
      if (begin != expected || end - begin != size || dataStart + end > fileSize) {
        throw new IllegalArgumentException(what + ": tensor '" + name + "' " + shape + " " + dtype + " has data_offsets [" + begin + ", "
            + end + "], expected [" + expected + ", " + (expected + size) + "] within the file");
      }
      entries.add(new Entry(name, dtype, shape, begin, end));
      expected = end;
    }
    if (dataStart + expected != fileSize) {
      throw new IllegalArgumentException(what + ": " + (fileSize - dataStart - expected) + " trailing bytes after the last tensor");
    }
    return new Header(List.copyOf(entries), metadata);
  }

  /** Reads one tensor into a native-order direct buffer (no second copy) and wraps it as an array. */
  private static NDArray toArray(NDManager manager, Source in, Entry entry) throws IOException {
    DataType type = dataType(entry.dtype(), entry.name());
    long n = entry.shape().size();
    switch (type) {
      case FLOAT32:
      case FLOAT64: {
        ByteBuffer data = ByteBuffer.allocateDirect(Math.toIntExact(entry.byteSize())).order(ByteOrder.nativeOrder());
        in.readFully(data);
        data.flip();
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
          swapToNative(data, type);
        }
        return manager.create(data, entry.shape(), type);
      }
      case FLOAT16:
      case BFLOAT16: {
        // Widened to float32 in Java, chunk by chunk: half-precision arrays are not safe on this CPU build.
        ByteBuffer widened = ByteBuffer.allocateDirect(Math.toIntExact(n * 4)).order(ByteOrder.nativeOrder());
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        long remaining = entry.byteSize();
        while (remaining > 0) {
          chunk.clear().limit((int) Math.min(CHUNK, remaining));
          in.readFully(chunk);
          chunk.flip();
          remaining -= chunk.remaining();
          while (chunk.hasRemaining()) {
            short bits = chunk.getShort();
            widened.putFloat(type == DataType.BFLOAT16 ? Float.intBitsToFloat((bits & 0xFFFF) << 16) : halfToFloat(bits));
          }
        }
        widened.flip();
        return manager.create(widened, entry.shape(), DataType.FLOAT32);
      }
      default:
        throw new IllegalArgumentException("safetensors: unsupported dtype " + type);
    }
  }

  private static void swapToNative(ByteBuffer data, DataType type) {
    ByteBuffer le = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (type == DataType.FLOAT32) {
      for (int i = 0; i < data.limit(); i += 4) {
        data.putFloat(i, le.getFloat(i));
      }
    } else {
      for (int i = 0; i < data.limit(); i += 8) {
        data.putDouble(i, le.getDouble(i));
      }
    }
  }

  /** A channel read exactly, with a position and an optional digest of everything read or skipped. */
  private static final class Source {
    private final ReadableByteChannel channel;
    private final MessageDigest digest;
    private long position;
    private ByteBuffer scratch;

    Source(ReadableByteChannel channel, MessageDigest digest) {
      this.channel = channel;
      this.digest = digest;
    }

    /** Fills the buffer's remaining space. */
    void readFully(ByteBuffer dst) throws IOException {
      int start = dst.position();
      while (dst.hasRemaining()) {
        if (channel.read(dst) < 0) {
          throw new EOFException("safetensors: the file ended after " + (position + dst.position() - start) + " bytes");
        }
      }
      if (digest != null) {
        ByteBuffer view = dst.duplicate();
        view.flip().position(start);
        digest.update(view);
      }
      position += dst.position() - start;
    }

    void skip(long n) throws IOException {
      copy(n, null);
    }

    void copy(long n, WritableByteChannel out) throws IOException {
      if (scratch == null) {
        scratch = ByteBuffer.allocate(CHUNK);
      }
      long remaining = n;
      while (remaining > 0) {
        scratch.clear().limit((int) Math.min(CHUNK, remaining));
        readFully(scratch);
        scratch.flip();
        remaining -= scratch.remaining();
        while (out != null && scratch.hasRemaining()) {
          out.write(scratch);
        }
      }
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

  /** The array's bytes in little-endian order (its native copy as is on little-endian machines). */
  private static ByteBuffer littleEndianBytes(NDArray array) {
    ByteBuffer raw = array.toByteBuffer().order(ByteOrder.nativeOrder());
    if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
      return raw;
    }
    ByteBuffer le = ByteBuffer.allocate(raw.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    if (array.getDataType() == DataType.FLOAT32) {
      le.asFloatBuffer().put(raw.asFloatBuffer());
    } else {
      le.asDoubleBuffer().put(raw.asDoubleBuffer());
    }
    return le;
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
