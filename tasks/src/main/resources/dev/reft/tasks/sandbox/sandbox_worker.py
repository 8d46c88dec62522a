"""ReFT P-CoT sandbox worker: runs untrusted `def solution(): ... return result` programs.

This process is started by dev.reft.tasks.sandbox.PythonSandbox inside the jail (bubblewrap: no
network, read-only view of the interpreter only, no writable file system; as an unprivileged uid so
that RLIMIT_NPROC holds). The jail is the security boundary. This script adds, inside the jail:

* resource limits on itself: RLIMIT_AS (memory), RLIMIT_NPROC 0 (no fork, no threads), RLIMIT_FSIZE 0,
  RLIMIT_NOFILE (no new file descriptors), RLIMIT_CORE 0;
* a clean start for every program: fresh globals, a fresh curated copy of the builtins, imports limited
  to a whitelist and served as per-program module copies, so that one program cannot change what the
  next one sees; a check after each program that the classes shared through those modules are intact;
* classification: attempts to reach beyond the whitelist (forbidden imports, files, sockets, processes,
  frames and code objects, private and dunder attributes) are reported as violations, even when the
  program catches the exception. The Java side replaces a pooled worker after any violation.

Protocol (one JSON object per line, ASCII):
  argv[1]   configuration: {"mode", "memory_bytes", "modules", "timeout", "max_output", "max_chars"}
  -> stdout {"ready": true, "python": "3.11.2", "modules": [...], "mode": "..."}   once, after set-up
  <- stdin  {"id": N, "code": "..."}
  -> stdout {"id": N, "status": S, "value": V, "error": E, "recycle": B}
     S = value | not_a_number | error | violation | timeout
Wall-clock limits are enforced by the Java side, which kills the whole jail (pooled mode; SIGALRM is a
backstop should the JVM be gone). In process-per-program mode each program runs in a fresh forked child
that this process times out itself.
"""

import ast
import builtins
import gc
import json
import math
import numbers
import os
import resource
import select
import signal
import sys
import time
import types

CONFIG = json.loads(sys.argv[1])
MODE = CONFIG.get("mode", "pooled")
MAX_OUTPUT = int(CONFIG.get("max_output", 1 << 20))
MAX_CHARS = int(CONFIG.get("max_chars", 1000))
TIMEOUT = float(CONFIG.get("timeout", 2.0))

# ---------------------------------------------------------------------------------------------------
# Whitelisted modules: imported once, here, before the limits are set; programs get copies.
# ---------------------------------------------------------------------------------------------------
ORIGINALS = {}
for _name in CONFIG.get("modules", ["math"]):
    try:
        ORIGINALS[_name] = __import__(_name)
    except ImportError:
        pass  # allowed but not installed: importing it fails like a normal ImportError

DENIED_ATTRIBUTE_PREFIXES = ("_", "gi_", "cr_", "ag_", "f_", "tb_", "co_")
ALLOWED_DUNDER_NAMES = frozenset({"__name__", "__doc__"})

# Audit events that mean "reaching outside the program". exec/compile/sys._getframe and
# object.__setattr__ are raised by legitimate library code (collections.namedtuple) and are allowed.
DENIED_EVENT_PREFIXES = (
    "open", "os.", "subprocess.", "_posixsubprocess.", "socket.", "ctypes.", "import", "gc.",
    "code.__new__", "function.__new__", "marshal.", "pickle.", "shutil.", "tempfile.", "glob.",
    "fcntl.", "mmap.", "resource.", "signal.", "syslog.", "urllib.", "http.", "ftplib.", "smtplib.",
    "poplib.", "imaplib.", "nntplib.", "telnetlib.", "webbrowser.", "sqlite3.", "builtins.input",
    "builtins.breakpoint", "cpython.", "setopencode", "object.__getattr__", "object.__delattr__",
    "_thread.", "time.sleep", "sys.",
)
ALLOWED_EVENTS = frozenset({"sys._getframe"})


class SandboxViolation(BaseException):
    """Raised when a program reaches beyond what it may use. A BaseException, so that a plain
    `except Exception` in the program does not swallow it (the violation is recorded either way)."""


class OutputLimitExceeded(Exception):
    """The program printed more than the output cap."""


class _State:
    """Per-program state the audit hook consults. Not reachable from programs (no dunder access)."""
    active = False
    violation = None


STATE = _State()


def _audit(event, args):
    if not STATE.active:
        return
    if event in ALLOWED_EVENTS or not event.startswith(DENIED_EVENT_PREFIXES):
        return
    detail = event
    if event == "object.__getattr__" and len(args) > 1:
        detail = "access to attribute " + str(args[1])
    elif event == "import" and args:
        detail = "import of " + repr(args[0])
    elif event == "open" and args:
        detail = "open(" + repr(args[0])[:80] + ")"
    _flag("forbidden operation: " + detail)


def _flag(reason):
    if STATE.violation is None:
        STATE.violation = reason
    raise SandboxViolation(reason)


# ---------------------------------------------------------------------------------------------------
# Static check of the program text.
# ---------------------------------------------------------------------------------------------------
def check_source(tree):
    """Rejects access to private/dunder attributes and interpreter internals (frames, code objects)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith(DENIED_ATTRIBUTE_PREFIXES):
            return "access to attribute " + repr(node.attr)
        if isinstance(node, ast.Name) and node.id.startswith("__") and node.id not in ALLOWED_DUNDER_NAMES:
            return "use of name " + repr(node.id)
    return None


# ---------------------------------------------------------------------------------------------------
# Per-program module copies and their integrity.
# ---------------------------------------------------------------------------------------------------
def _module_copy(original):
    copy = types.ModuleType(original.__name__, original.__doc__)
    for key, value in vars(original).items():
        if key.startswith("_") and key != "__all__":
            continue
        if isinstance(value, types.ModuleType):
            continue  # no route from a whitelisted module to os/sys/...
        setattr(copy, key, value)
    return copy


def _shared_classes(module):
    """Python-level classes reachable from a module's public names (with their bases): mutable and
    shared between programs, so their dictionaries are checked after each program."""
    found = {}
    for key, value in vars(module).items():
        if key.startswith("_") or not isinstance(value, type):
            continue
        for cls in value.__mro__:
            if not (cls.__flags__ & (1 << 9)):  # Py_TPFLAGS_HEAPTYPE: only those can be mutated
                continue
            found[id(cls)] = cls
    return list(found.values())


SNAPSHOTS = {}
for _name, _module in ORIGINALS.items():
    SNAPSHOTS[_name] = [(cls, dict(cls.__dict__)) for cls in _shared_classes(_module)]


def _tampered(module_names):
    for name in module_names:
        for cls, snapshot in SNAPSHOTS.get(name, ()):
            current = cls.__dict__
            if len(current) != len(snapshot):
                return cls.__qualname__
            for key, value in snapshot.items():
                if current.get(key, snapshot) is not value:
                    return cls.__qualname__ + "." + key
    return None


# ---------------------------------------------------------------------------------------------------
# A fresh, curated builtins dictionary per program.
# ---------------------------------------------------------------------------------------------------
REMOVED_BUILTINS = ("open", "input", "breakpoint", "help", "exit", "quit", "copyright", "credits",
                    "license", "vars", "compile", "memoryview", "__import__", "__loader__", "__spec__",
                    "__package__", "__debug__", "getattr", "setattr", "delattr", "hasattr", "eval", "exec",
                    "print")
BASE_BUILTINS = {k: v for k, v in vars(builtins).items() if k not in REMOVED_BUILTINS}


def _forbidden(name):
    def stub(*args, **kwargs):
        _flag("use of " + name + "()")
    stub.__name__ = name
    return stub


def make_globals(imported):
    """Globals for one program: fresh builtins whose functions close over this program only."""
    fresh = dict(BASE_BUILTINS)
    program_globals = {"__name__": "__main__", "__builtins__": fresh}
    printed = [0]

    def safe_import(name, globals=None, locals=None, fromlist=(), level=0):
        top = name.partition(".")[0]
        if level != 0 or top not in CONFIG.get("modules", ()):
            _flag("import of " + repr(name))
        if name != top:
            _flag("import of submodule " + repr(name))
        if top not in ORIGINALS:
            raise ModuleNotFoundError("No module named " + repr(top))
        if top not in imported:
            imported[top] = _module_copy(ORIGINALS[top])
        return imported[top]

    def check_name(name):
        if not isinstance(name, str):
            raise TypeError("attribute name must be a string")
        if name.startswith(DENIED_ATTRIBUTE_PREFIXES):
            _flag("access to attribute " + repr(name))

    def safe_getattr(obj, name, *default):
        check_name(name)
        return builtins.getattr(obj, name, *default)

    def safe_hasattr(obj, name):
        check_name(name)
        return builtins.hasattr(obj, name)

    def safe_setattr(obj, name, value):
        check_name(name)
        return builtins.setattr(obj, name, value)

    def safe_delattr(obj, name):
        check_name(name)
        return builtins.delattr(obj, name)

    def parse_checked(source, mode):
        if not isinstance(source, str):
            _flag("eval/exec of a non-string")
        tree = ast.parse(source, "<string>", mode)
        reason = check_source(tree)
        if reason:
            _flag(reason)
        return builtins.compile(tree, "<string>", mode)

    def safe_eval(source, globals=None, locals=None):
        return builtins.eval(parse_checked(source, "eval"),
                             program_globals if globals is None else globals, locals)

    def safe_exec(source, globals=None, locals=None):
        builtins.exec(parse_checked(source, "exec"),
                      program_globals if globals is None else globals, locals)

    def safe_print(*args, sep=" ", end="\n", file=None, flush=False):
        text = (" " if sep is None else str(sep)).join(str(a) for a in args) + ("\n" if end is None else str(end))
        printed[0] += len(text)
        if printed[0] > MAX_OUTPUT:
            raise OutputLimitExceeded("output limit of %d characters exceeded" % MAX_OUTPUT)

    fresh.update({
        "__import__": safe_import, "getattr": safe_getattr, "hasattr": safe_hasattr,
        "setattr": safe_setattr, "delattr": safe_delattr, "eval": safe_eval, "exec": safe_exec,
        "print": safe_print,
    })
    for name in ("open", "input", "breakpoint", "help", "exit", "quit", "vars", "compile", "memoryview"):
        fresh[name] = _forbidden(name)
    return program_globals


# ---------------------------------------------------------------------------------------------------
# Running one program.
# ---------------------------------------------------------------------------------------------------
def render(value):
    """(status, text) for a return value: numbers (and numeric strings) become their text."""
    if isinstance(value, bool):
        return "not_a_number", "bool"
    if isinstance(value, int):
        if value.bit_length() > 3000:
            return "error", "integer result too large"
        return "value", str(value)
    if isinstance(value, float):
        return "value", repr(value)
    if isinstance(value, complex):
        if value.imag == 0:
            return "value", repr(value.real)
        return "not_a_number", "complex"
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            float(text)
        except ValueError:
            return "not_a_number", "str"
        return "value", text[:MAX_CHARS]
    if isinstance(value, numbers.Integral):
        return render(int(value))
    if isinstance(value, numbers.Real):
        return "value", repr(float(value))
    try:  # sympy numbers that are not registered as numbers.Real, numpy scalars, ...
        if getattr(value, "is_number", False) or hasattr(value, "__float__"):
            return "value", repr(float(value))
    except Exception:
        pass
    return "not_a_number", type(value).__name__


def prepare(code):
    """Parses, checks and compiles a program: (code object, None) or (None, reply) when it cannot run.
    Parsing is not running: in process-per-program mode this happens in the parent."""
    try:
        tree = ast.parse(code, "<program>", "exec")
    except SyntaxError as e:
        return None, {"status": "error", "error": "SyntaxError: %s (line %s)" % (e.msg, e.lineno)}
    except (ValueError, MemoryError, RecursionError) as e:
        return None, {"status": "error", "error": type(e).__name__ + ": " + str(e)[:MAX_CHARS]}
    reason = check_source(tree)
    if reason:
        return None, {"status": "violation", "error": reason, "recycle": False}
    try:
        return compile(tree, "<program>", "exec"), None
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return None, {"status": "error", "error": type(e).__name__ + ": " + str(e)[:MAX_CHARS]}


def execute(compiled, collect):
    """Runs a compiled program in this process: the reply dictionary (without the id).

    collect: run the program's finalizers now (pooled mode); a forked child that exits right after
    skips this, as it would only copy the pages the collector touches."""
    imported = {}
    program_globals = make_globals(imported)
    STATE.violation = None
    STATE.active = True
    status, text, recycle = "error", None, False
    try:
        exec(compiled, program_globals)
        solution = program_globals.get("solution")
        if not callable(solution):
            raise NameError("the program defines no solution() function")
        status, text = render(solution())
    except SandboxViolation as e:
        status, text = "violation", str(e)
    except MemoryError:
        status, text, recycle = "error", "MemoryError: memory limit exceeded", True
    except RecursionError as e:
        status, text = "error", "RecursionError: " + str(e)
    except BaseException as e:  # SystemExit, KeyboardInterrupt and everything else the program raises
        status, text = "error", (type(e).__name__ + ": " + str(e))
    finally:
        # Still monitored: finalizers (__del__, generator finally blocks) of this program's objects run
        # now, charged to this program, not later inside the next one. gc.freeze() at start-up keeps
        # this collection small.
        if collect:
            program_globals.clear()
            solution = None
            try:
                gc.collect()
            except BaseException:
                pass
        STATE.active = False
    if STATE.violation is not None:
        status, text = "violation", STATE.violation
    tampered = _tampered(imported)
    if tampered is not None:
        status, text = "violation", "modified shared class " + tampered
    if status == "violation":
        recycle = True
    reply = {"status": status, "recycle": recycle}
    reply["value" if status == "value" else "error"] = (text or "")[:MAX_CHARS]
    return reply


def run_pooled(code):
    """pooled mode: the program runs in this (long-lived, jailed) process.

    The Java side kills this worker when the wall-clock limit passes. SIGALRM (no handler: its default
    action ends the process) is a backstop for when nobody is left to do that."""
    compiled, reply = prepare(code)
    if reply is not None:
        return reply
    signal.alarm(int(math.ceil(TIMEOUT)) + 2)
    try:
        return execute(compiled, collect=True)
    finally:
        signal.alarm(0)


def run_in_child(code):
    """process-per-program mode: fork a child, run the program there, time it out here.

    Returns (reply, pid): the child is reaped by the caller after the reply has been sent."""
    compiled, reply = prepare(code)
    if reply is not None:
        return reply, None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read_end)
            resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
            cpu = int(math.ceil(TIMEOUT)) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
            data = json.dumps(execute(compiled, collect=False)).encode("ascii") + b"\n"
        except BaseException as e:
            data = json.dumps({"status": "error", "error": type(e).__name__ + ": " + str(e)[:200]}).encode() + b"\n"
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view):]
        os._exit(0)
    os.close(write_end)
    data = b""
    deadline = time.monotonic() + TIMEOUT
    reply = None
    try:
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                reply = {"status": "timeout", "error": "wall-clock limit of %gs exceeded" % TIMEOUT}
                break
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            data += chunk
            if len(data) > 4 * MAX_CHARS + 4096:
                reply = {"status": "violation", "error": "oversized reply from the program process"}
                break
    finally:
        os.close(read_end)
    if reply is not None or not data.endswith(b"\n"):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, wait_status = os.waitpid(pid, 0)
        if reply is None:
            reply = _child_failure(wait_status)
        pid = None
    else:
        reply = json.loads(data.decode("ascii"))
    reply["recycle"] = False  # the child is gone; this process ran no untrusted code
    return reply, pid


def _child_failure(wait_status):
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        if sig == signal.SIGXCPU:
            return {"status": "timeout", "error": "CPU time limit exceeded"}
        return {"status": "error", "error": "program process killed by signal %d" % sig}
    return {"status": "error", "error": "program process exited (%d) without a result"
            % os.waitstatus_to_exitcode(wait_status)}


# ---------------------------------------------------------------------------------------------------
# Set-up and the request loop.
# ---------------------------------------------------------------------------------------------------
def setup():
    """Moves the protocol to private descriptors, points 0/1/2 at /dev/null and sets the limits."""
    protocol_in = os.dup(0)
    protocol_out = os.dup(1)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    memory = int(CONFIG.get("memory_bytes", 256 << 20))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if MODE == "pooled":
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
        files = max(protocol_in, protocol_out) + 1
    else:
        files = max(protocol_in, protocol_out) + 3  # one pipe per program child
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))
    sys.setrecursionlimit(1000)
    sys.addaudithook(_audit)
    gc.collect()
    gc.freeze()
    return os.fdopen(protocol_in, "rb"), os.fdopen(protocol_out, "wb")


def main():
    requests, replies = setup()
    ready = {"ready": True, "python": "%d.%d.%d" % sys.version_info[:3], "mode": MODE,
             "modules": sorted(ORIGINALS)}
    replies.write(json.dumps(ready).encode("ascii") + b"\n")
    replies.flush()
    strict = MODE == "process-per-program"
    while True:
        line = requests.readline()
        if not line:
            return
        request = json.loads(line)
        child = None
        if strict:
            reply, child = run_in_child(request["code"])
        else:
            reply = run_pooled(request["code"])
        reply["id"] = request["id"]
        replies.write(json.dumps(reply).encode("ascii") + b"\n")
        replies.flush()
        if child is not None:
            os.waitpid(child, 0)  # the child has written its result and is exiting


if __name__ == "__main__":
    main()
