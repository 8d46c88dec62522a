package dev.reft.learner.store;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Everything besides weights and optimizer moments that a learner needs to resume exactly where a
 * checkpoint was taken. Stored as {@code learner-state.json} inside the checkpoint (covered by its
 * manifest).
 *
 * @param runId the run
 * @param mode the learner mode that wrote it
 * @param version the policy version of the checkpoint
 * @param step optimizer steps taken
 * @param rngState the learner's RNG (mini-batch shuffles, data order)
 * @param dataEpoch passes over the training problems started
 * @param dataPosition requests issued in the current pass (the next problem index in its order)
 * @param incarnation a random id chosen when the loop starts fresh and kept across resumes; request ids are
 *     {@code <run>.<incarnation>-r<seq>}, so answers to requests of an abandoned attempt are never mistaken
 *     for answers to this one
 * @param nextRequestSeq sequence number of the next rollout request
 * @param rewardedOffsets the next offset to consume from each partition of the rewarded topic
 * @param pendingOffsets per partition of the rewarded topic, the offsets below {@code rewardedOffsets} of
 *     trajectories held for a question whose K samples were not all in yet (a question's samples always train in
 *     the same update): a resumed loop reads them again, and nothing else below {@code rewardedOffsets}
 * @param requestOffsets the end offset of each partition of the requests topic when the checkpoint was
 *     taken: requests after it were issued later and are recovered from the log on resume
 * @param inFlight requests issued but not fully answered at the checkpoint
 * @param counters running totals (dropped stale, duplicates, lost requests, ...)
 */
public record LearnerState(
    @JsonProperty("run_id") String runId,
    @JsonProperty("mode") String mode,
    @JsonProperty("version") long version,
    @JsonProperty("step") long step,
    @JsonProperty("rng_state") long rngState,
    @JsonProperty("data_epoch") int dataEpoch,
    @JsonProperty("data_position") int dataPosition,
    @JsonProperty("incarnation") String incarnation,
    @JsonProperty("next_request_seq") long nextRequestSeq,
    @JsonProperty("rewarded_offsets") Map<Integer, Long> rewardedOffsets,
    @JsonProperty("pending_offsets") Map<Integer, List<Long>> pendingOffsets,
    @JsonProperty("request_offsets") Map<Integer, Long> requestOffsets,
    @JsonProperty("in_flight") List<InFlightRequest> inFlight,
    @JsonProperty("counters") Map<String, Long> counters) {

  public LearnerState {
    rewardedOffsets = rewardedOffsets == null ? Map.of() : rewardedOffsets;
    pendingOffsets = pendingOffsets == null ? Map.of() : pendingOffsets;
    requestOffsets = requestOffsets == null ? Map.of() : requestOffsets;
    inFlight = inFlight == null ? List.of() : inFlight;
    counters = counters == null ? Map.of() : counters;
    incarnation = incarnation == null ? "" : incarnation;
  }

  /**
   * The state of a checkpoint written outside the rollout loop (a warm-up, an adopted start, Offline-ST's
   * result): nothing in flight, no positions.
   */
  public static LearnerState outsideTheLoop(String runId, String mode, long version, long step,
      Map<String, Long> counters) {
    return new LearnerState(runId, mode, version, step, 0, 0, 0, "", 0, Map.of(), Map.of(), Map.of(), List.of(),
        counters);
  }

  /**
   * A request that was not fully answered when the checkpoint was taken; {@code held} of its received samples
   * were kept for the batch (their offsets are in {@code pendingOffsets}); {@code problem} is its problem's index
   * in the training problems (to request it again if nobody answers).
   */
  public record InFlightRequest(
      @JsonProperty("request_id") String requestId,
      @JsonProperty("samples") int samples,
      @JsonProperty("received") List<Integer> received,
      @JsonProperty("issued_at_ms") long issuedAtMillis,
      @JsonProperty("issued_version") long issuedVersion,
      @JsonProperty("held") int held,
      @JsonProperty("problem") int problem) {

    /** A state written before problems were recorded reads as -1: unknown. */
    @com.fasterxml.jackson.annotation.JsonCreator
    public InFlightRequest(@JsonProperty("request_id") String requestId, @JsonProperty("samples") int samples,
        @JsonProperty("received") List<Integer> received, @JsonProperty("issued_at_ms") long issuedAtMillis,
        @JsonProperty("issued_version") long issuedVersion, @JsonProperty("held") int held,
        @JsonProperty("problem") Integer problem) {
      this(requestId, samples, received, issuedAtMillis, issuedVersion, held, problem == null ? -1 : problem);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static LearnerState fromJson(byte[] json) {
    try {
      return JSON.readValue(json, LearnerState.class);
    } catch (IOException e) {
      throw new UncheckedIOException("unreadable learner-state.json", e);
    }
  }
}
