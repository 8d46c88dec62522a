package dev.reft.kafka.local;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension: one real KRaft broker per test class, on free ports with a fresh log directory,
 * stopped (and its directory deleted) after the class. Test methods, constructors and lifecycle methods
 * receive it as a {@link LocalKafkaBroker} parameter.
 *
 * <pre>{@code
 * @WithKafkaBroker
 * class MyIT {
 *   @Test void roundTrip(LocalKafkaBroker broker) { ... broker.bootstrapServers() ... }
 * }
 * }</pre>
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KafkaBrokerExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    broker(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == LocalKafkaBroker.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return broker(context);
  }

  private static LocalKafkaBroker broker(ExtensionContext context) {
    ExtensionContext classContext = context;
    while (classContext.getParent().isPresent() && classContext.getTestMethod().isPresent()) {
      classContext = classContext.getParent().get();
    }
    // Stored values that are AutoCloseable are closed when the class context ends.
    return classContext
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            "broker", key -> LocalKafkaBroker.builder().build().start(), LocalKafkaBroker.class);
  }
}
