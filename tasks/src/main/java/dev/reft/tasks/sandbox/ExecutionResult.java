package dev.reft.tasks.sandbox;

import java.util.Objects;

/**
 * What running one program produced.
 *
 * @param status the kind of result
 * @param value for {@link Status#VALUE}: the return value of {@code solution()} as text ({@code "203"},
 *     {@code "0.5"}, {@code "inf"}); otherwise null
 * @param error for the other statuses: a short reason (exception type and message, the forbidden operation,
 *     the type of a non-numeric return value); otherwise null
 * @param micros wall time from sending the program to the worker to receiving its result, microseconds
 */
public record ExecutionResult(Status status, String value, String error, long micros) {

  /** The kinds of result. */
  public enum Status {
    /** {@code solution()} returned a number (or numeric text). */
    VALUE,
    /** {@code solution()} returned something that is not a number (None, a string, a list, a bool ...). */
    NOT_A_NUMBER,
    /** The program did not compile, raised, ran out of memory, defined no {@code solution()} or crashed. */
    EXEC_ERROR,
    /** The program exceeded the wall-clock limit; its worker (or child process) was killed. */
    TIMEOUT,
    /** The program tried to reach beyond the whitelist: files, network, processes, imports, interpreter internals. */
    SANDBOX_VIOLATION
  }

  public ExecutionResult {
    Objects.requireNonNull(status, "status");
  }
}
