package dev.reft.sampler.health;

import dev.reft.sampler.PolicyHolder;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once a checkpoint of this run has been verified and loaded. */
@Readiness
@ApplicationScoped
public class ModelReadiness implements HealthCheck {

  @Inject PolicyHolder holder;

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("policy-loaded")
        .status(holder.hasModel())
        .withData("served_version", holder.servedVersion())
        .withData("newest_version", holder.newestVersion())
        .build();
  }
}
