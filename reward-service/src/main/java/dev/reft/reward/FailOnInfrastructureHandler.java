package dev.reft.reward;

import dev.reft.tasks.sandbox.SandboxUnavailableException;
import java.util.Map;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.jboss.logging.Logger;

/**
 * Kafka Streams' processing-exception handler for this topology. Bad records never reach it — they are
 * dead-lettered inside the topology — so what arrives here is either a bug in a later processor (logged and
 * skipped, so that one odd record does not stop grading) or the sandbox being unavailable for longer than
 * the grader waits: then the stream thread fails rather than skip a good trajectory, and exactly-once
 * processing resumes from the last commit when the thread or pod is restarted.
 */
public final class FailOnInfrastructureHandler implements ProcessingExceptionHandler {

  private static final Logger LOG = Logger.getLogger(FailOnInfrastructureHandler.class);

  @Override
  public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
    if (exception instanceof SandboxUnavailableException || exception.getCause() instanceof SandboxUnavailableException) {
      LOG.errorf(exception, "the P-CoT sandbox is unavailable; stopping the stream thread at %s-%d offset %d "
          + "(it resumes from the last commit)", context.topic(), context.partition(), context.offset());
      return ProcessingHandlerResponse.FAIL;
    }
    LOG.errorf(exception, "skipping a record that failed in %s at %s-%d offset %d", context.processorNodeId(),
        context.topic(), context.partition(), context.offset());
    return ProcessingHandlerResponse.CONTINUE;
  }

  @Override
  public void configure(Map<String, ?> configs) {}
}
