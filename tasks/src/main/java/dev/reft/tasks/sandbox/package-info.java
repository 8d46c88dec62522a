/**
 * The sandboxed P-CoT executor: {@link dev.reft.tasks.sandbox.PythonSandbox} runs untrusted
 * {@code def solution(): ... return result} programs with CPython in bubblewrap jails, configured by
 * {@link dev.reft.tasks.sandbox.SandboxConfig}; results are {@link dev.reft.tasks.sandbox.ExecutionResult}s.
 * Needs {@code /usr/bin/bwrap} (Debian package {@code bubblewrap}), {@code /usr/bin/setpriv} (util-linux) when
 * running as root, and {@code /usr/bin/python3}.
 */
package dev.reft.tasks.sandbox;
