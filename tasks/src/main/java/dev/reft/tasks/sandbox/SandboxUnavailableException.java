package dev.reft.tasks.sandbox;

/**
 * The P-CoT sandbox cannot run programs: a required tool is missing (bubblewrap, setpriv, python3), the jail
 * does not start on this host, or no worker became available. Never a silent pass: callers get this instead
 * of a grade.
 */
public final class SandboxUnavailableException extends RuntimeException {

  public SandboxUnavailableException(String message) {
    super(message);
  }

  public SandboxUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
