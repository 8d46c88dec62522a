package dev.reft.learner;

import dev.reft.learner.loop.KafkaIo;
import dev.reft.policy.PolicyRuntime;
import dev.reft.schemas.CotStyle;
import dev.reft.schemas.KafkaClientConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.eclipse.microprofile.config.Config;

/**
 * The learner's wiring: logs its whole configuration, runs the configured mode on a worker thread, and
 * (with {@code reft.learner.exit-when-done}) ends the process when the work is done — exit code 0, or 1
 * when the mode failed.
 *
 * <p>Mode {@code auto} is ReFT from nothing, for a deployment: the warm-up SFT when the run has no version 0 yet
 * (it is skipped when version 0 exists, so a restarted pod goes straight on), then the ReFT loop, which resumes
 * from the run's newest checkpoint.
 */
@ApplicationScoped
public class LearnerService {

  private static final Set<String> MODES = Set.of("auto", "sft", "reft", "online-st", "offline-st");

  @Inject LearnerSettings settings;
  @Inject MeterRegistry registry;
  @Inject Config config;

  private volatile boolean running = true;
  private volatile String status = "starting";
  private Thread worker;

  void start(@Observes StartupEvent event) {
    String mode = settings.mode().toLowerCase(Locale.ROOT);
    if (!MODES.contains(mode)) {
      throw new IllegalArgumentException("reft.learner.mode must be one of " + MODES + ", not " + settings.mode());
    }
    CotStyle style = CotStyle.valueOf(settings.style().toUpperCase(Locale.ROOT));
    PolicyRuntime.configureThreads(settings.threads(), 1);
    Log.infof("policy device: %s (%s)", PolicyRuntime.configureDevice(
        config.getOptionalValue(PolicyRuntime.DEVICE_PROPERTY, String.class).orElse("auto")), PolicyRuntime.DEVICE_PROPERTY);
    logConfiguration();
    worker = new Thread(() -> run(mode, style), "learner-" + mode);
    worker.start();
  }

  private void run(String mode, CotStyle style) {
    Function<String, Optional<String>> lookup = key -> config.getOptionalValue(key, String.class);
    int exit = 0;
    status = "auto".equals(mode) ? "starting auto" : "running " + mode;
    try (KafkaIo kafka = new KafkaIo(KafkaClientConfig.from(config.getPropertyNames(), lookup), settings.runId(), lookup,
        registry);
        RunContext ctx = new RunContext(settings, style, kafka, new LearnerMetrics(registry), lookup)) {
      switch (mode) {
        case "sft" -> WarmupRun.run(ctx, () -> running);
        case "auto" -> {
          if (ctx.store.open(0).isEmpty() && settings.initCheckpoint().isEmpty()) {
            status = "warming up";
            Log.infof("run %s has no version 0: warm-up SFT first, then ReFT", settings.runId());
            WarmupRun.run(ctx, () -> running);
          }
          if (running) {
            status = "running reft";
            RolloutRun.run(ctx, "reft", () -> running);
          }
        }
        case "offline-st" -> OfflineStRun.run(ctx, () -> running);
        default -> RolloutRun.run(ctx, mode, () -> running);
      }
      status = running ? "done" : "stopped";
      Log.infof("learner %s of run %s: %s", mode, settings.runId(), status);
    } catch (Throwable e) {
      status = "failed: " + e;
      exit = 1;
      Log.errorf(e, "learner %s of run %s failed", mode, settings.runId());
    }
    if (settings.exitWhenDone() && running) {
      Quarkus.asyncExit(exit);
    }
  }

  void stop(@Observes ShutdownEvent event) throws InterruptedException {
    running = false;
    if (worker != null && worker != Thread.currentThread()) {
      worker.join(60_000);
    }
  }

  /** What the worker is doing, for the health checks. */
  public String status() {
    return status;
  }

  private void logConfiguration() {
    StringBuilder sb = new StringBuilder("learner configuration:");
    for (String name : config.getPropertyNames()) {
      if (name.startsWith("reft.")) { // includes reft.ppo.*
        sb.append("\n  ").append(name).append(" = ").append(config.getOptionalValue(name, String.class).orElse(""));
      }
    }
    KafkaClientConfig.redacted(KafkaClientConfig.from(config.getPropertyNames(),
            key -> config.getOptionalValue(key, String.class)))
        .forEach((k, v) -> sb.append("\n  kafka.").append(k).append(" = ").append(v));
    Log.info(sb);
  }
}
