package dev.reft.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

  private final AvroSerde<RewardedTrajectory> serde = AvroSerde.of(RewardedTrajectory.class);

  @Test
  void roundTripsARecordInSingleObjectEncoding() {
    byte[] bytes = serde.encode(SampleRecords.rewarded());
    assertThat(bytes[0]).isEqualTo((byte) 0xC3);
    assertThat(bytes[1]).isEqualTo((byte) 0x01);
    assertThat(serde.decode(bytes)).isEqualTo(SampleRecords.rewarded());
  }

  @Test
  void nullIsATombstone() {
    assertThat(serde.encode(null)).isNull();
    assertThat(serde.decode(null)).isNull();
  }

  @Test
  void garbageBytesFailWithATypedBadHeader() {
    assertThatThrownBy(() -> serde.decode("not avro at all".getBytes()))
        .isInstanceOfSatisfying(RecordDecodeException.class, e -> {
          assertThat(e.reason()).isEqualTo(RecordDecodeException.Reason.BAD_HEADER);
          assertThat(e.recordType()).isEqualTo("RewardedTrajectory");
        });
  }

  @Test
  void aRecordOfAnotherTypeHasAnUnknownSchema() {
    byte[] request = AvroSerde.of(RolloutRequest.class).encode(SampleRecords.request());
    assertThatThrownBy(() -> serde.decode(request))
        .isInstanceOfSatisfying(RecordDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(RecordDecodeException.Reason.UNKNOWN_SCHEMA));
  }

  @Test
  void aTruncatedBodyIsCorrupt() {
    byte[] bytes = serde.encode(SampleRecords.rewarded());
    byte[] truncated = Arrays.copyOf(bytes, 10 + (bytes.length - 10) / 2);
    assertThatThrownBy(() -> serde.decode(truncated))
        .isInstanceOfSatisfying(RecordDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(RecordDecodeException.Reason.CORRUPT_BODY));
  }

  @Test
  void readsRecordsWrittenWithAnOlderReleasedSchema() throws Exception {
    // An older CheckpointPublished that had no 'metrics' and no 'mode' field yet (both have defaults or
    // are resolved to the reader's default): the reader fills metrics with its default.
    Schema current = CheckpointPublished.getClassSchema();
    Schema older = SchemaBuilder.record("CheckpointPublished").namespace("dev.reft.schemas").fields()
        .requiredString("run_id")
        .requiredLong("version")
        .requiredString("uri")
        .requiredString("sha256")
        .requiredLong("step")
        .requiredString("mode")
        .name("created_at").type(current.getField("created_at").schema()).noDefault()
        .endRecord();
    GenericRecord old = new GenericData.Record(older);
    old.put("run_id", "run-0");
    old.put("version", 7L);
    old.put("uri", "file:///c/7");
    old.put("sha256", "00");
    old.put("step", 70L);
    old.put("mode", "sft");
    old.put("created_at", 1_700_000_000_000L);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new BinaryMessageEncoder<GenericRecord>(GenericData.get(), older).encode(old, out);

    assertThatThrownBy(() -> AvroSerde.of(CheckpointPublished.class).decode(out.toByteArray()))
        .isInstanceOf(RecordDecodeException.class);
    CheckpointPublished decoded =
        AvroSerde.withWriterSchemas(CheckpointPublished.class, List.of(older)).decode(out.toByteArray());
    assertThat(decoded.getVersion()).isEqualTo(7L);
    assertThat(decoded.getMetrics()).isEmpty();
  }
}
