package dev.reft.reward.health;

import dev.reft.tasks.sandbox.PythonSandbox;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready when the P-CoT sandbox's workers are up. (Kafka Streams adds its own topic and state checks.) */
@Readiness
@ApplicationScoped
public class SandboxReadiness implements HealthCheck {

  @Inject PythonSandbox sandbox;

  @Override
  public HealthCheckResponse call() {
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
