package dev.reft.tasks.sandbox;

import static dev.reft.tasks.sandbox.ExecutionResult.Status.EXEC_ERROR;
import static dev.reft.tasks.sandbox.ExecutionResult.Status.NOT_A_NUMBER;
import static dev.reft.tasks.sandbox.ExecutionResult.Status.SANDBOX_VIOLATION;
import static dev.reft.tasks.sandbox.ExecutionResult.Status.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.reft.tasks.sandbox.ExecutionResult.Status;
import dev.reft.tasks.sandbox.SandboxConfig.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile and broken programs, run through the real sandbox in both modes: each must come back classified
 * (never hang, never touch the host), and the sandbox must keep working afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdversarialProgramsTest {

  private static final String PROBE_FILE = "/tmp/reft-sandbox-escape-" + ProcessHandle.current().pid();

  /** One hostile program: a name, its source, the statuses that count as contained, and words of the reason. */
  record Case(String name, String source, Set<Status> expected, String reasonContains) {
    @Override
    public String toString() {
      return name;
    }
  }

  private final Map<Mode, PythonSandbox> sandboxes = new EnumMap<>(Mode.class);

  @BeforeAll
  void start() {
    for (Mode mode : Mode.values()) {
      sandboxes.put(mode, PythonSandbox.start(
          SandboxConfig.defaults().withMode(mode).withWorkers(2).withTimeout(Duration.ofSeconds(1))));
    }
  }

  @AfterAll
  void stop() {
    sandboxes.values().forEach(PythonSandbox::close);
  }

  static List<Case> cases() {
    List<Case> c = new ArrayList<>();
    c.add(new Case("read /etc/passwd", fn("return open('/etc/passwd').read()"), Set.of(SANDBOX_VIOLATION), "open"));
    c.add(new Case("write a file", fn("open('" + PROBE_FILE + "', 'w').write('x')\n    return 1"),
        Set.of(SANDBOX_VIOLATION), "open"));
    c.add(new Case("list /", "import os\n" + fn("return len(os.listdir('/'))"), Set.of(SANDBOX_VIOLATION), "import"));
    c.add(new Case("open a socket", "import socket\n" + fn("s = socket.create_connection(('127.0.0.1', 22))\n    return 1"),
        Set.of(SANDBOX_VIOLATION), "socket"));
    c.add(new Case("subprocess", "import subprocess\n" + fn("return subprocess.run(['id']).returncode"),
        Set.of(SANDBOX_VIOLATION), "subprocess"));
    c.add(new Case("os.system", fn("import os\n    return os.system('id')"), Set.of(SANDBOX_VIOLATION), "os"));
    c.add(new Case("os.fork loop", "import os\n" + fn("while True:\n        os.fork()"), Set.of(SANDBOX_VIOLATION), "os"));
    c.add(new Case("busy loop", fn("while True:\n        pass"), Set.of(TIMEOUT), "wall-clock"));
    c.add(new Case("time.sleep(100)", "import time\n" + fn("time.sleep(100)\n    return 1"), Set.of(SANDBOX_VIOLATION), "time"));
    c.add(new Case("10 GB list", fn("x = [0] * (10 * 1024 ** 3)\n    return len(x)"), Set.of(EXEC_ERROR), "MemoryError"));
    c.add(new Case("growing list", fn("x = []\n    while True:\n        x.append('y' * 1000)"),
        Set.of(EXEC_ERROR, TIMEOUT), ""));
    c.add(new Case("deep recursion", fn("def f(n):\n        return f(n + 1) + 1\n    return f(0)"),
        Set.of(EXEC_ERROR), "RecursionError"));
    c.add(new Case("print 100 MB", fn("for i in range(10 ** 6):\n        print('x' * 100)\n    return 1"),
        Set.of(EXEC_ERROR), "output limit"));
    // Building and writing 100 MB can outlast the test's 1 s limit on a loaded machine: contained either way.
    c.add(new Case("print one 100 MB string", fn("print('x' * 100_000_000)\n    return 1"), Set.of(EXEC_ERROR, TIMEOUT), ""));
    c.add(new Case("__import__('ctypes')", fn("return __import__('ctypes')"), Set.of(SANDBOX_VIOLATION), "__import__"));
    c.add(new Case("import ctypes", "import ctypes\n" + fn("return 1"), Set.of(SANDBOX_VIOLATION), "ctypes"));
    c.add(new Case("subclasses escape", fn("return len(().__class__.__bases__[0].__subclasses__())"),
        Set.of(SANDBOX_VIOLATION), "access to attribute"));
    c.add(new Case("getattr escape", fn("return getattr(getattr((), '__class__'), '__base__')"),
        Set.of(SANDBOX_VIOLATION), "__class__"));
    c.add(new Case("eval escape", fn("return eval('().__class__.__bases__')"), Set.of(SANDBOX_VIOLATION), "access to attribute"));
    c.add(new Case("generator frame walk", fn("g = (x for x in [1])\n    return g.gi_frame.f_back.f_globals"),
        Set.of(SANDBOX_VIOLATION), "access to attribute"));
    c.add(new Case("traceback frame walk",
        fn("try:\n        1 / 0\n    except Exception as e:\n        return e.__traceback__.tb_frame"),
        Set.of(SANDBOX_VIOLATION), "access to attribute"));
    c.add(new Case("builtins dict", fn("return __builtins__['open']('/etc/passwd')"), Set.of(SANDBOX_VIOLATION), "__builtins__"));
    c.add(new Case("signal tampering", "import signal\n" + fn("signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    return 1"),
        Set.of(SANDBOX_VIOLATION), "signal"));
    c.add(new Case("sys.exit", "import sys\n" + fn("sys.exit(0)"), Set.of(SANDBOX_VIOLATION), "sys"));
    c.add(new Case("raise SystemExit", fn("raise SystemExit(3)"), Set.of(EXEC_ERROR), "SystemExit"));
    c.add(new Case("exit()", fn("exit(0)"), Set.of(SANDBOX_VIOLATION), "exit"));
    c.add(new Case("infinite generator", fn("def g():\n        while True:\n            yield 1\n    return sum(g())"),
        Set.of(TIMEOUT), "wall-clock"));
    c.add(new Case("huge exponentiation", fn("return 9 ** 9 ** 9"), Set.of(TIMEOUT, EXEC_ERROR), ""));
    c.add(new Case("huge integer result", fn("return 7 ** 100000"), Set.of(EXEC_ERROR), "too large"));
    c.add(new Case("threads", "import threading\n" + fn("threading.Thread(target=print).start()\n    return 1"),
        Set.of(SANDBOX_VIOLATION), "threading"));
    c.add(new Case("_thread", "import _thread\n" + fn("return 1"), Set.of(SANDBOX_VIOLATION), "_thread"));
    c.add(new Case("environment variables", "import os\n" + fn("return os.environ.get('HOME')"),
        Set.of(SANDBOX_VIOLATION), "os"));
    c.add(new Case("finalizer escape", "class A:\n    def __del__(self):\n        import os\n"
        + fn("a = A()\n    del a\n    return 1"), Set.of(SANDBOX_VIOLATION), "os"));
    c.add(new Case("violation swallowed", fn("try:\n        import os\n    except BaseException:\n        pass\n    return 5"),
        Set.of(SANDBOX_VIOLATION), "os"));
    c.add(new Case("mutate a shared class",
        "import collections\n" + fn("collections.Counter.most_common = lambda self, n=None: []\n    return 1"),
        Set.of(SANDBOX_VIOLATION), "Counter"));
    c.add(new Case("returns a string", fn("return 'forty-two'"), Set.of(NOT_A_NUMBER), "str"));
    c.add(new Case("returns None", fn("x = 1"), Set.of(NOT_A_NUMBER), "NoneType"));
    c.add(new Case("returns a list", fn("return [1, 2]"), Set.of(NOT_A_NUMBER), "list"));
    c.add(new Case("returns a bool", fn("return True"), Set.of(NOT_A_NUMBER), "bool"));
    c.add(new Case("syntax error", "def solution(:\n    return 1\n", Set.of(EXEC_ERROR), "SyntaxError"));
    c.add(new Case("no solution()", "def answer():\n    return 1\n", Set.of(EXEC_ERROR), "solution"));
    c.add(new Case("raises", fn("return 1 / 0"), Set.of(EXEC_ERROR), "ZeroDivisionError"));
    c.add(new Case("oversized program", fn("return 1") + "#" + "x".repeat(200_000), Set.of(EXEC_ERROR), "longer"));
    return c;
  }

  static Stream<Arguments> casesInBothModes() {
    return Stream.of(Mode.values()).flatMap(m -> cases().stream().map(c -> Arguments.of(m, c)));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("casesInBothModes")
  void hostileProgramIsContainedAndClassified(Mode mode, Case c) {
    PythonSandbox sandbox = sandboxes.get(mode);
    ExecutionResult r = sandbox.execute(c.source());
    assertThat(r.status()).as("%s -> %s", c.name(), r).isIn(c.expected());
    assertThat(r.value()).isNull();
    if (!c.reasonContains().isEmpty()) {
      assertThat(r.error()).as(c.name()).contains(c.reasonContains());
    }
    assertThat(Path.of(PROBE_FILE)).doesNotExist();
    // The executor still works, with the right answer.
    for (int i = 0; i < 3; i++) {
      ExecutionResult after = sandbox.execute(fn("return 6 * 7"));
      assertThat(after.status()).as("after %s: %s", c.name(), after).isEqualTo(Status.VALUE);
      assertThat(after.value()).isEqualTo("42");
    }
    assertThat(sandbox.isReady()).isTrue();
  }

  @Test
  void thereAreAtLeast25HostilePrograms() {
    assertThat(cases()).hasSizeGreaterThanOrEqualTo(25);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void tamperingWithMathAndBuiltinsIsNotSeenByTheNextProgram(Mode mode) {
    // One worker, so both programs run in the same (pooled) process.
    try (PythonSandbox sandbox = PythonSandbox.start(SandboxConfig.defaults().withMode(mode).withWorkers(1))) {
      ExecutionResult tamper = sandbox.execute("import math\n" + fn(
          "math.pi = 3\n    math.sqrt = lambda x: -1\n"
              + "    globals()['__builtins__']['len'] = lambda x: 99\n"
              + "    return math.pi + math.sqrt(4) + len([])"));
      assertThat(tamper.status()).as("%s", tamper).isEqualTo(Status.VALUE);
      assertThat(tamper.value()).isEqualTo("101");  // the tampering is visible to the program itself
      ExecutionResult next = sandbox.execute("import math\n" + fn("return math.pi + math.sqrt(16) + len([1, 2])"));
      assertThat(next.status()).as("%s", next).isEqualTo(Status.VALUE);
      assertThat(Double.parseDouble(next.value())).isEqualTo(Math.PI + 4 + 2);
      assertThat(sandbox.restartCount()).as("isolation without a restart").isZero();
    }
  }

  @Test
  void pooledWorkersAreReplacedAfterTimeoutsAndViolations() {
    try (PythonSandbox sandbox = PythonSandbox.start(
        SandboxConfig.defaults().withWorkers(1).withTimeout(Duration.ofMillis(500)))) {
      assertThat(sandbox.execute(fn("while True:\n        pass")).status()).isEqualTo(TIMEOUT);
      assertThat(sandbox.restartCount()).isEqualTo(1);
      assertThat(sandbox.execute("import os\n" + fn("return 1")).status()).isEqualTo(SANDBOX_VIOLATION);
      assertThat(sandbox.restartCount()).isEqualTo(2);
      assertThat(sandbox.execute(fn("return 2 + 2")).value()).isEqualTo("4");
    }
  }

  @Test
  void pooledWorkersAreRecycledAfterNPrograms() {
    try (PythonSandbox sandbox = PythonSandbox.start(SandboxConfig.defaults().withWorkers(1).withRecycleAfter(3))) {
      for (int i = 0; i < 7; i++) {
        assertThat(sandbox.execute(fn("return " + i)).value()).isEqualTo(Integer.toString(i));
      }
      assertThat(sandbox.restartCount()).isEqualTo(2);
    }
  }

  @Test
  void closeKillsEveryWorker() throws Exception {
    Set<ProcessHandle> before = Set.copyOf(ProcessHandle.current().children().toList());
    PythonSandbox sandbox = PythonSandbox.start(SandboxConfig.defaults().withWorkers(2));
    List<ProcessHandle> jails = ProcessHandle.current().children().filter(p -> !before.contains(p))
        .filter(p -> p.info().command().map(cmd -> cmd.endsWith("bwrap")).orElse(false)).toList();
    List<ProcessHandle> inside = jails.stream().flatMap(ProcessHandle::descendants).toList();
    assertThat(jails).hasSize(2);
    assertThat(inside).isNotEmpty();
    sandbox.close();
    assertThat(sandbox.isReady()).isFalse();
    for (ProcessHandle p : Stream.concat(jails.stream(), inside.stream()).toList()) {
      p.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(p.isAlive()).isFalse();
    }
  }

  @Test
  void missingBubblewrapIsAClearError() {
    SandboxConfig config = SandboxConfig.defaults().withBwrap(Path.of("/nonexistent/bwrap"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> PythonSandbox.start(config))
        .isInstanceOf(SandboxUnavailableException.class)
        .hasMessageContaining("bubblewrap")
        .hasMessageContaining("/nonexistent/bwrap")
        .hasMessageContaining("apt-get install bubblewrap");
    assertThat(Files.exists(Path.of("/nonexistent/bwrap"))).isFalse();
  }

  private static String fn(String body) {
    return "def solution():\n    " + body + "\n";
  }
}
