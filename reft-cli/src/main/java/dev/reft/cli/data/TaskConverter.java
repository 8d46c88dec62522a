package dev.reft.cli.data;

import dev.reft.tasks.synthetic.SyntheticConfig;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads {@code --task paths|orders}; anything else is a usage error naming the choices. */
public final class TaskConverter implements ITypeConverter<SyntheticConfig.Task> {

  @Override
  public SyntheticConfig.Task convert(String value) {
    try {
      return SyntheticConfig.Task.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException("expected paths or orders, not '" + value + "'");
    }
  }
}
