package dev.reft.reward.health;

import dev.reft.reward.RewardService;
import dev.reft.tasks.sandbox.PythonSandbox;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when the P-CoT sandbox's workers are up, or when the sandbox is off ({@code reft.sandbox.mode=off}: N-CoT
 * only). (Kafka Streams adds its own topic and state checks.)
 */
@Readiness
@ApplicationScoped
public class SandboxReadiness implements HealthCheck {

  @Inject RewardService service;

  @Override
  public HealthCheckResponse call() {
    Optional<PythonSandbox> running = service.sandbox();
    if (running.isEmpty()) {
      boolean off = service.sandboxOff();
      return HealthCheckResponse.named("p-cot-sandbox").status(off)
          .withData("mode", off ? "off" : "not started").build();
    }
    PythonSandbox sandbox = running.get();
    return HealthCheckResponse.named("p-cot-sandbox")
        .status(sandbox.isReady())
        .withData("mode", sandbox.config().mode().id())
        .withData("workers", sandbox.config().workers())
        .withData("python", sandbox.pythonVersion())
        .withData("executed", sandbox.executedCount())
        .withData("restarts", sandbox.restartCount())
        .build();
  }
}
