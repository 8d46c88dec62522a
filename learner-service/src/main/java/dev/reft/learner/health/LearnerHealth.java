package dev.reft.learner.health;

import dev.reft.learner.LearnerService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready and alive unless the learner's mode failed. The status says what it does - {@code warming up} (mode auto,
 * before version 0 exists), {@code running reft}, {@code done} - so a long warm-up is visible and not a failure.
 */
@Readiness
@Liveness
@ApplicationScoped
public class LearnerHealth implements HealthCheck {

  @Inject LearnerService service;

  @Override
  public HealthCheckResponse call() {
    String status = service.status();
    return HealthCheckResponse.named("learner").status(!status.startsWith("failed")).withData("status", status).build();
  }
}
