package dev.reft.sampler.health;

import dev.reft.sampler.SamplerService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/** Alive while the sampling loop runs; a fenced or crashed loop makes the pod restart. */
@Liveness
@ApplicationScoped
public class LoopLiveness implements HealthCheck {

  @Inject SamplerService service;

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("sampling-loop").status(service.loopAlive()).build();
  }
}
