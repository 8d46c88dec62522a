package dev.reft.sampler;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** The sampler's settings, {@code reft.sampler.*} in {@code application.properties}. */
@ConfigMapping(prefix = "reft.sampler")
public interface SamplerSettings {

  /** The training run this sampler serves: it loads that run's checkpoints and answers its requests. */
  @WithDefault("demo")
  String runId();

  /** This instance's id, recorded in trajectories and part of its transactional id. */
  String instanceId();

  /** Most sequences (requests × K) generated together in one batch. */
  @WithDefault("32")
  int batchSize();

  /** Upper bound on a request's max new tokens (longer requests are capped). */
  @WithDefault("256")
  int maxNewTokensCap();

  /** PyTorch intra-op threads for generation (keep ≤ free cores). */
  @WithDefault("2")
  int threads();

  /**
   * Generation batches run at the same time, each on its own thread: a poll's sequences are split into at least
   * this many batches. With {@code threads} = 1 (one intra-op thread per batch, fastest for a small model) this
   * is the number of cores sampling uses; 1 generates one batch after another on the loop's thread.
   */
  @WithDefault("1")
  int parallelism();

  /** Directory that relative checkpoint URIs are resolved against (absolute {@code file:} URIs need none). */
  Optional<String> checkpointRoot();

  /**
   * How long to wait for the checkpoint of the policy version a request asks for before sampling with an older one
   * (which the learner may drop as too old).
   */
  @WithDefault("30s")
  Duration versionWait();

  /** How long one poll for requests waits. */
  @WithDefault("200ms")
  Duration pollTimeout();
}
