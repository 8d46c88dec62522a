package dev.reft.tasks.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jail itself, below the worker's Python-level checks: a script with full Python (os, socket, open,
 * fork) runs in exactly the jail the workers get, and must still not reach the host.
 */
class JailTest {

  private static final String CHECKS = String.join("\n",
      "import json, os, resource, socket, sys, threading",
      "port = int(sys.argv[1])",
      "out = {'uid': os.getuid(), 'pid': os.getpid(), 'root': sorted(os.listdir('/')), 'env': dict(os.environ)}",
      "def attempt(name, f):",
      "    try:",
      "        out[name] = 'ok: ' + str(f())",
      "    except BaseException as e:",
      "        out[name] = 'failed: ' + type(e).__name__",
      "attempt('read_passwd', lambda: open('/etc/passwd').read()[:10])",
      "attempt('write_root', lambda: open('/escape', 'w').write('x'))",
      "attempt('write_sandbox', lambda: open('/sandbox/escape', 'w').write('x'))",
      "attempt('proc', lambda: os.listdir('/proc'))",
      "attempt('host_port', lambda: socket.create_connection(('127.0.0.1', port), timeout=2).close())",
      "attempt('dns', lambda: socket.getaddrinfo('example.com', 80))",
      "resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))",
      "def fork():",
      "    pid = os.fork()",
      "    if pid == 0:",
      "        os._exit(0)",
      "    os.waitpid(pid, 0)",
      "    return pid",
      "attempt('fork', fork)",
      "attempt('thread', lambda: threading.Thread(target=lambda: None).start())",
      "print(json.dumps(out))");

  @TempDir Path dir;

  @Test
  void aProgramWithFullPythonStillCannotReachTheHost() throws Exception {
    SandboxConfig config = SandboxConfig.defaults();
    JailLayout layout = JailLayout.probe(config);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path script = dir.resolve("checks.py");
    Files.writeString(script, CHECKS);
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));

    JsonNode out;
    try (ServerSocket hostPort = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<String> command = layout.command(config, script, Integer.toString(hostPort.getLocalPort()));
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      pb.environment().put("REFT_SECRET", "must-not-leak");
      Process p = pb.start();
      byte[] bytes = p.getInputStream().readAllBytes();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String text = new String(bytes, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(text).isZero();
      String last = text.strip().substring(text.strip().lastIndexOf('\n') + 1);
      out = new ObjectMapper().readTree(last);
    }

    if (JailLayout.isRoot()) {
      assertThat(out.get("uid").asInt()).isEqualTo(config.sandboxUid());
    }
    assertThat(out.get("pid").asInt()).as("own PID namespace").isLessThan(10);
    List<String> root = new ArrayList<>();
    out.get("root").forEach(n -> root.add(n.asText()));
    assertThat(root).doesNotContain("etc", "home", "root", "tmp", "proc", "work", "var", "opt");
    assertThat(out.get("env").has("REFT_SECRET")).isFalse();
    assertThat(out.get("read_passwd").asText()).startsWith("failed");
    assertThat(out.get("write_root").asText()).startsWith("failed");
    assertThat(out.get("write_sandbox").asText()).startsWith("failed");
    assertThat(out.get("proc").asText()).startsWith("failed");
    assertThat(out.get("host_port").asText()).as("host loopback port").startsWith("failed");
    assertThat(out.get("dns").asText()).startsWith("failed");
    assertThat(out.get("fork").asText()).as("RLIMIT_NPROC 0 holds in the jail").startsWith("failed");
    assertThat(out.get("thread").asText()).startsWith("failed");
    assertThat(Path.of("/escape")).doesNotExist();
    assertThat(dir.resolve("escape")).doesNotExist();
  }
}
