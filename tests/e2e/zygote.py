"""A fork server for the tests' `reewatch` runs: the real command, without paying for its imports.

Each end-to-end test runs the real `reewatch` command in its own process, and starting one costs
a second of CPU before it does any work (SQLAlchemy, Alembic, Pydantic, the rules engine, ...).
Over a couple of hundred runs that is the biggest single cost of the suite. A zygote imports those
modules once, per test worker, and forks a child for each run: the child gets the run's
arguments, environment, working folder and standard streams, then enters the same `main()` as
`python -m service` and exits as the interpreter would (non-daemon threads joined, `atexit`
handlers run, streams flushed). Its pid is real, so a test can signal it, and its exit status is
reported back as `subprocess` reports it (a negative signal number when killed).

What a fork cannot give is a fresh interpreter: tests of what a cold start imports or how long it
takes (tests/e2e/test_startup.py) start `python` themselves.

    python -m tests.e2e.zygote SOCKET     # the server; `spawn` and `run` start it on first use
"""

from __future__ import annotations

import atexit
import io
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What every `reewatch` command imports before it starts work; a child finds them loaded.
PRELOAD = (
    "service.cli",
    "service.config",
    "service.bootstrap",
    "service.pipeline.runner",
    "service.pipeline.scheduler",
    "service.store.migrate",
    "service.evaluation.corpus",
)
_HEADER = struct.Struct("!I")
_MAX_FDS = 3


# --- the server ---------------------------------------------------------------------------------


def serve(path: str) -> None:
    """Import the command's modules, then fork a child per request until the parent goes."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.setblocking(False)
    waiting: dict[int, socket.socket] = {}  # child pid -> the connection its status goes to
    # A child's exit wakes the loop through this pipe, so its status is reported at once.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    print("ready", flush=True)
    while os.getppid() == parent:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj is listener:
                _accept(listener, waiting, (listener, wake_read, wake_write))
            else:
                try:
                    os.read(wake_read, 4096)
                except BlockingIOError:
                    pass
        _reap(waiting)
    for pid in waiting:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _accept(listener: socket.socket, waiting: dict[int, socket.socket], own: tuple) -> None:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return
    conn.setblocking(True)
    header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, _MAX_FDS)
    (size,) = _HEADER.unpack(header)
    payload = _read_exactly(conn, size)
    request = json.loads(payload)
    pid = os.fork()
    if pid == 0:
        for other in (*waiting.values(), conn):
            other.close()
        own[0].close()
        os.close(own[1])
        os.close(own[2])
        _child(request, fds)  # never returns
    for fd in fds:
        os.close(fd)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    waiting[pid] = conn


def _reap(waiting: dict[int, socket.socket]) -> None:
    while waiting:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = waiting.pop(pid, None)
        if conn is None:
            continue
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        try:
            conn.sendall(json.dumps({"returncode": code}).encode() + b"\n")
        except OSError:
            pass  # the test has gone; nobody waits for this status
        conn.close()


def _child(request: dict, fds: list[int]) -> None:
    """Become the run: its streams, folder, environment and arguments; then exit as Python does."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        unbuffered = bool(request["env"].get("PYTHONUNBUFFERED"))
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = _stream(1, unbuffered, "strict")
        sys.stderr = _stream(2, True, "backslashreplace")
        sys.argv = ["reewatch", *request["args"]]
        _fresh_consoles()
        code = _main()
        threading._shutdown()  # type: ignore[attr-defined]  # what the interpreter does at exit
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - whatever happens, the child must not return to the server loop
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed pipe: nothing more can be said
                pass
        os._exit(code)


def _fresh_consoles() -> None:
    """Build the command's consoles again, as a new process would: Rich reads the width, colour
    and terminal settings of the environment (COLUMNS, NO_COLOR, ...) when a console is made,
    and the CLI made its consoles when the zygote imported it."""
    from service.cli import context

    for console in (context.out, context.err):
        console.__init__(stderr=console.stderr)  # type: ignore[misc]


def _stream(fd: int, unbuffered: bool, errors: str) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "w", closefd=False)
    buffered = io.BufferedWriter(raw)
    return io.TextIOWrapper(buffered, encoding="utf-8", errors=errors, write_through=unbuffered, line_buffering=False)


def _main() -> int:
    """`python -m service`'s exit code, as the interpreter turns SystemExit into one."""
    from service.cli import main

    try:
        main()
    except SystemExit as exit_:
        if exit_.code is None:
            return 0
        if isinstance(exit_.code, int):
            return exit_.code
        print(exit_.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        traceback.print_exc()
        return 128 + signal.SIGINT
    except BaseException:  # noqa: BLE001 - printed as an uncaught exception would be
        traceback.print_exc()
        return 1
    return 0


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = conn.recv(size)
        if not chunk:
            raise ConnectionError("the request ended early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# --- the client ---------------------------------------------------------------------------------


class _Zygote:
    """The server of this test process, started on first use and stopped when the process ends."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.path = ""
        self.lock = threading.Lock()

    def address(self) -> str:
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                folder = tempfile.mkdtemp(prefix="reewatch-zygote-")
                self.path = os.path.join(folder, "socket")
                env = {k: v for k, v in os.environ.items() if not k.startswith(("REEWATCH_", "SLACK_", "SMTP_", "DATABASE_URL", "PRICE_SOURCE"))}
                # numpy must not start BLAS threads that a fork would leave behind.
                env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "tests.e2e.zygote", self.path],
                    cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                )
                assert self.process.stdout is not None
                line = self.process.stdout.readline()
                if line.strip() != b"ready":
                    raise RuntimeError("the zygote did not start")
                atexit.register(self.stop)
            return self.path

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()


_ZYGOTE = _Zygote()


class Forked:
    """A run forked by the zygote, with the part of `subprocess.Popen`'s interface tests use."""

    def __init__(self, pid: int, conn: socket.socket, args: list[str], stdout, stderr, text: bool) -> None:
        self.pid = pid
        self.text = text
        self._captured: dict[object, bytearray] = {stdout: bytearray(), stderr: bytearray()}
        self.args = args
        self.returncode: int | None = None
        self.stdout = stdout
        self.stderr = stderr
        self._conn = conn
        self._buffer = b""

    def poll(self) -> int | None:
        if self.returncode is None:
            self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and not self._read(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout)  # type: ignore[arg-type]
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _read(self, timeout: float | None) -> bool:
        """Wait up to `timeout` for the exit status; True once it is known."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._conn.settimeout(left)
            try:
                chunk = self._conn.recv(4096)
            except (TimeoutError, BlockingIOError):
                return False
            if not chunk:
                raise RuntimeError(f"the zygote went away before reporting how run {self.pid} ended")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        self.returncode = json.loads(line)["returncode"]
        self._conn.close()
        return True

    def communicate(self, timeout: float | None = None) -> tuple[str | bytes | None, str | bytes | None]:
        """Everything the run writes to its PIPEs until it closes them, then its exit status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        streams = [s for s in (self.stdout, self.stderr) if s is not None and not s.closed]
        with selectors.DefaultSelector() as selector:
            for stream in streams:
                selector.register(stream, selectors.EVENT_READ)
            while selector.get_map():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise subprocess.TimeoutExpired(self.args, timeout)  # type: ignore[arg-type]
                for key, _ in selector.select(timeout=left):
                    chunk = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
                    if chunk:
                        self._captured[key.fileobj] += chunk
                    else:
                        selector.unregister(key.fileobj)
                        key.fileobj.close()  # type: ignore[union-attr]
        self.wait(None if deadline is None else max(0.1, deadline - time.monotonic()))
        out = bytes(self._captured[self.stdout]) if self.stdout is not None else None
        err = bytes(self._captured[self.stderr]) if self.stderr is not None else None
        if self.text:
            return (None if out is None else _text(out)), (None if err is None else _text(err))
        return out, err


def _fd(target, pipes: list[int]) -> tuple[int, object | None]:
    """The descriptor a child's stream goes to, and the reading end for PIPE."""
    if target is None:
        return -1, None
    if target == subprocess.DEVNULL:
        fd = os.open(os.devnull, os.O_RDWR)
        pipes.append(fd)
        return fd, None
    if target == subprocess.PIPE:
        read, write = os.pipe()
        pipes.append(write)
        return write, read
    return target.fileno(), None


def spawn(
    args: list[str], *, env: dict[str, str], cwd: Path | str, stdin=subprocess.DEVNULL, stdout=None, stderr=None, text: bool = False
) -> Forked:
    """Start `reewatch ARGS` like `subprocess.Popen([python, -m, service, *ARGS], ...)`;
    `stdout` and `stderr` are None (the test's own), DEVNULL, PIPE or an open file, and
    `communicate` gives what went to a PIPE as text when `text` is true."""
    opened: list[int] = []
    fds: list[int] = []
    readers: list[object | None] = []
    for target, default in ((stdin, 0), (stdout, 1), (stderr, 2)):
        fd, reader = _fd(target, opened)
        fds.append(default if fd < 0 else fd)
        readers.append(reader)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(_ZYGOTE.address())
        payload = json.dumps({"args": list(args), "env": dict(env), "cwd": str(cwd)}).encode()
        socket.send_fds(conn, [_HEADER.pack(len(payload))], fds)
        conn.sendall(payload)
        line = b""
        while not line.endswith(b"\n"):
            chunk = conn.recv(1)
            if not chunk:
                raise RuntimeError("the zygote closed the connection before forking")
            line += chunk
    except BaseException:
        conn.close()
        for reader in readers:
            if reader is not None:
                os.close(reader)  # type: ignore[arg-type]
        raise
    finally:
        for fd in opened:  # the child has its own copies now (or never will)
            os.close(fd)
    pid = json.loads(line)["pid"]
    out = os.fdopen(readers[1], "rb") if readers[1] is not None else None  # type: ignore[arg-type]
    err = os.fdopen(readers[2], "rb") if readers[2] is not None else None  # type: ignore[arg-type]
    return Forked(pid, conn, ["reewatch", *args], out, err, text)


def run(args: list[str], *, env: dict[str, str], cwd: Path | str, timeout: float) -> subprocess.CompletedProcess:
    """`subprocess.run([python, -m, service, *ARGS], capture_output=True, text=True, timeout=...)`."""
    process = spawn(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _text(data: bytes) -> str:
    """Output as `text=True` gives it: decoded, with universal newlines."""
    return bytes(data).decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


if __name__ == "__main__":
    serve(sys.argv[1])
