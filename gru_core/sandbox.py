"""Parse untrusted bytes in a child process that may crash, and get back only plain arrays.

A parser is any function ``parse(data: bytes, **options) -> (arrays, meta)`` named by
``"package.module:function"``: ``arrays`` maps names to NumPy arrays of plain numeric dtypes and
``meta`` is anything JSON can hold. :func:`parse_untrusted` runs it in a one-shot worker process
and returns a :class:`Parsed`, or raises :class:`SandboxError` (a ValueError) whose text is a
sentence for the user: either the parser's own ValueError message, or why the worker was stopped
(it crashed, ran out of memory, time, or output).

Nothing crosses back as a pickle: the worker writes a JSON header and the raw bytes of each array,
and the parent checks every dtype, shape and offset before it wraps the bytes in an array.

How a worker is made (Linux): one *zygote* process per set of preloaded modules imports them once
(torch takes ~2 s) and then forks a fresh worker per request, so a request costs a fork (~10 ms)
rather than an import. The zygote is started with fork+exec (``subprocess``; no ``preexec_fn``,
which is unsafe in the multithreaded Streamlit server) and stays single-threaded (thread pools
pinned to one thread), so forking it is safe. Each worker sets its own limits first thing, before
it reads a byte of the request: address space (what the zygote already maps, plus a budget), CPU
time, stack, no files written, no core dumps; an alarm stops it even if the parent is gone. The
parent adds a wall-clock timeout and a cap on the output it reads. The zygote exits when the
parent closes its end of the control socket (or dies).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import math
import os
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_REQUEST_MAGIC, _REPLY_MAGIC = b"SBXQ", b"SBXR"
_ARRAY_DTYPES = frozenset({"float32", "float64", "int64", "int32", "uint8", "bool"})
_STDERR_KEEP = 8_192   # bytes of a worker's stderr kept for diagnostics (never shown to users)
_ROOT = str(Path(__file__).resolve().parents[1])  # the directory that holds gru_core (and app)


@dataclass(frozen=True)
class Limits:
    """What one worker may use. The defaults fit reading a 20 MB checkpoint with a wide margin."""

    memory_mb: int = 512        # address space on top of what the zygote's imports already map
    cpu_seconds: int = 10       # processor time (SIGXCPU, then SIGKILL one second later)
    wall_seconds: float = 20.0  # the parent kills the worker after this long
    stack_mb: int = 8           # the main thread's stack: deep C recursion ends in SIGSEGV, not a hang
    output_mb: int = 64         # bytes of results the parent reads at most
    open_files: int = 64        # enough for lazy imports; the worker needs no others


@dataclass
class RunStats:
    """Measurements of one worker run (the bench and the tests report them)."""

    seconds: float = 0.0          # wall time in the parent, fork to last byte
    child_peak_kb: int = 0        # the worker's peak resident memory (wait4's ru_maxrss)
    zygote_rss_kb: int = 0        # resident memory the worker started from (shared copy-on-write)
    child_cpu_seconds: float = 0.0
    exit: str = ""                # "ok", "refused", "signal SIGSEGV", "timeout", ...


@dataclass(frozen=True)
class Parsed:
    """A parser's result: arrays (read-only, owned by the parent) and JSON metadata."""

    arrays: dict[str, np.ndarray]
    meta: Any
    stats: RunStats = field(default_factory=RunStats)


class SandboxError(ValueError):
    """The input was refused or could not be read safely; ``str()`` is the message for the user.

    ``kind`` says which: ``"refused"`` (the parser's own message), ``"crashed"``, ``"memory"``,
    ``"cpu"``, ``"timeout"``, ``"output"`` or ``"failed"`` (an unexpected error in the parser).
    """

    def __init__(self, message: str, kind: str, stats: RunStats | None = None, detail: str = ""):
        super().__init__(message)
        self.kind, self.stats, self.detail = kind, stats or RunStats(), detail


_last = threading.local()


def last_stats() -> RunStats | None:
    """The :class:`RunStats` of this thread's latest :func:`parse_untrusted` call (None before one)."""
    return getattr(_last, "stats", None)


def parse_untrusted(parser: str, data: bytes, *, options: dict[str, Any] | None = None,
                    limits: Limits = Limits(), preload: tuple[str, ...] = (),
                    subject: str = "This file", hint: str = "") -> Parsed:
    """Run ``parser`` ("package.module:function") on ``data`` in a fresh, limited worker process.

    ``options`` (JSON) are passed to the parser as keyword arguments. ``preload`` names modules the
    zygote imports once for every worker (e.g. ``("torch",)``). ``subject`` starts the messages
    written here ("This file could not be read safely: ..."), and ``hint`` ends them (what to do).
    Raises :class:`SandboxError` for every refusal and failure; never another exception for
    anything in ``data``.
    """
    module, _, function = parser.partition(":")
    if not module or not function:
        raise TypeError(f"parser must look like 'package.module:function', got {parser!r}")
    header = json.dumps({"parser": parser, "options": options or {}}).encode()
    request = b"".join([_REQUEST_MAGIC, struct.pack(">I", len(header)), header,
                        struct.pack(">Q", len(data))])
    stats = RunStats()
    _last.stats = stats
    started = time.monotonic()
    try:
        worker = _zygote(tuple(preload)).fork(limits)
    except (OSError, RuntimeError, TimeoutError) as err:  # the server's problem, said without a traceback
        raise SandboxError(f"{subject} could not be read: the sandbox that reads it could not be started "
                           f"({type(err).__name__}). Try again in a moment.", "failed", stats, str(err)) from None
    try:
        worker.wait_started()
        stats.zygote_rss_kb = worker.zygote_rss_kb
        out, err, stopped = _exchange(worker, [request, data], limits)
        status = worker.wait_status(timeout=5.0)
    except (OSError, RuntimeError, TimeoutError) as problem:  # the zygote died under this request
        raise SandboxError(f"{subject} could not be read safely: the sandbox stopped unexpectedly "
                           f"({type(problem).__name__}). Try again in a moment.", "failed", stats,
                           str(problem)) from None
    finally:
        worker.close()
    stats.seconds = time.monotonic() - started
    stats.child_peak_kb, stats.child_cpu_seconds = status.maxrss_kb, status.cpu_seconds
    return _interpret(out, err, stopped, status, limits, stats, subject, hint)


# -- the parent's side of one run -----------------------------------------------------------------
@dataclass
class _Status:
    """How a worker ended, as the zygote saw it."""

    code: int | None = None     # exit code, or None when killed by a signal
    signal: int | None = None
    maxrss_kb: int = 0
    cpu_seconds: float = 0.0


class _Worker:
    """The parent's ends of one worker's pipes: stdin (write), stdout, stderr and status (read)."""

    def __init__(self, zygote: _Zygote, stdin: int, stdout: int, stderr: int, status: int):
        self.zygote, self.stdin, self.stdout, self.stderr, self.status = zygote, stdin, stdout, stderr, status
        self._status_buffer = b""
        self.pid, self.zygote_rss_kb = 0, 0

    def wait_started(self) -> None:
        """The zygote's first report: the worker's pid and the zygote's resident memory."""
        self.pid = self._read_status_line(timeout=30.0, tag=b"P")[0]
        self.zygote_rss_kb = self._read_status_line(timeout=5.0, tag=b"R")[0]

    def kill(self) -> None:
        if self.pid:
            self.zygote.kill(self.pid)

    def wait_status(self, timeout: float) -> _Status:
        """Wait for the zygote's report of the worker's exit; kill the worker if it is late."""
        try:
            return self._exit_status(timeout)
        except TimeoutError:
            self.kill()
            return self._exit_status(timeout)

    def _exit_status(self, timeout: float) -> _Status:
        code, sig, maxrss, cpu_ms = self._read_status_line(timeout, tag=b"X")
        return _Status(code if code >= 0 else None, sig or None, maxrss, cpu_ms / 1000)

    def _read_status_line(self, timeout: float, tag: bytes) -> list[int]:
        """The integers on the next status line, which must start with ``tag`` (b"P", b"R", b"X")."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._status_buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not _wait_readable(self.status, remaining):
                raise TimeoutError(f"no {tag.decode()} line from the sandbox zygote")
            chunk = os.read(self.status, 4096)
            if not chunk:
                raise RuntimeError("the sandbox zygote closed a status pipe early")
            self._status_buffer += chunk
        line, _, self._status_buffer = self._status_buffer.partition(b"\n")
        fields = line.split()
        if not fields or fields[0] != tag:
            raise RuntimeError(f"unexpected status line from the sandbox zygote: {line[:80]!r}")
        return [int(f) for f in fields[1:]]

    def close(self) -> None:
        for fd in (self.stdin, self.stdout, self.stderr, self.status):
            with contextlib.suppress(OSError):
                os.close(fd)


def _wait_readable(fd: int, timeout: float) -> bool:
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        return bool(sel.select(timeout))


def _exchange(worker: _Worker, chunks: list[bytes], limits: Limits) -> tuple[bytes | bytearray, bytes, str]:
    """Write the request while reading stdout (capped) and stderr (tail kept) until both close.

    Returns ``(stdout, stderr tail, stopped)``, ``stopped`` being "" or why the worker was killed:
    "timeout" (past the wall-clock limit) or "output" (past the output cap). Writing and reading
    interleave so neither side can block the other.
    """
    deadline = time.monotonic() + limits.wall_seconds
    cap = limits.output_mb * 1_000_000
    pending = [memoryview(c) for c in chunks if len(c)]
    out, err = bytearray(), bytearray()
    os.set_blocking(worker.stdin, False)
    sel = selectors.DefaultSelector()
    sel.register(worker.stdout, selectors.EVENT_READ, out)
    sel.register(worker.stderr, selectors.EVENT_READ, err)
    if pending:
        sel.register(worker.stdin, selectors.EVENT_WRITE)
    else:
        os.close(worker.stdin)
        worker.stdin = -1
    stopped = ""
    try:
        while len(sel.get_map()) > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                stopped = "timeout"
                worker.kill()
                break
            for key, _ in sel.select(remaining):
                if key.fd == worker.stdin:
                    if _write_some(worker.stdin, pending):
                        continue
                    sel.unregister(worker.stdin)  # all written, or the worker stopped reading
                    os.close(worker.stdin)
                    worker.stdin = -1
                    continue
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                key.data.extend(chunk)
                if key.data is err and len(err) > 2 * _STDERR_KEEP:
                    del err[:-_STDERR_KEEP]
                if len(out) > cap:  # a working parser never gets close; stop reading at once
                    stopped = "output"
                    worker.kill()
                    return b"", bytes(err[-_STDERR_KEEP:]), stopped
    finally:
        sel.close()
    return out, bytes(err[-_STDERR_KEEP:]), stopped  # out stays a bytearray: no copy of the reply


def _write_some(fd: int, pending: list[memoryview]) -> bool:
    """Write what the pipe takes now; False once everything is written or the reader is gone."""
    while pending:
        try:
            n = os.write(fd, pending[0][: 1 << 16])
        except BlockingIOError:
            return True
        except BrokenPipeError:  # the worker exited or refused early: its reply says why
            pending.clear()
            return False
        pending[0] = pending[0][n:]
        if not len(pending[0]):
            pending.pop(0)
    return False


def _interpret(out: bytes | bytearray, err: bytes, stopped: str, status: _Status, limits: Limits,
               stats: RunStats, subject: str, hint: str) -> Parsed:
    """The worker's reply as a :class:`Parsed`, or the :class:`SandboxError` that explains it."""
    def fail(kind: str, why: str, exit: str, detail: str = "") -> SandboxError:
        stats.exit = exit
        message = f"{subject} could not be read safely: {why}" + (f" {hint}" if hint else "")
        return SandboxError(message, kind, stats, detail=detail + err.decode(errors="replace"))

    if stopped == "timeout":
        raise fail("timeout", f"reading it took longer than {limits.wall_seconds:g} s, so it was stopped.",
                   "timeout")
    if stopped == "output":
        raise fail("output", f"the reader produced more than {limits.output_mb} MB of results, which no "
                   "acceptable input gives, so it was stopped.", "output")
    if status.signal is not None:
        name = _signal_name(status.signal)
        if status.signal == signal.SIGXCPU or status.cpu_seconds >= limits.cpu_seconds:
            raise fail("cpu", f"reading it took more than {limits.cpu_seconds} s of processor time, so it "
                       "was stopped.", f"signal {name}")
        raise fail("crashed", f"the reader crashed ({name}) while parsing it, so it was stopped. Inputs "
                   "that do this are damaged or built to break the reader.", f"signal {name}")
    try:
        reply, arrays = _decode_reply(out)
    except (ValueError, KeyError, TypeError, RecursionError) as problem:  # whatever a broken reply raises
        raise fail("failed", f"the reader's reply was malformed ({problem}).", f"exit {status.code}") from None
    if not reply.get("ok"):
        kind = str(reply.get("kind", "failed"))
        stats.exit = kind
        message = str(reply.get("message", ""))
        if kind == "refused" and message:
            raise SandboxError(message, "refused", stats)
        if kind == "memory":
            raise fail("memory", f"reading it needed more than the {limits.memory_mb} MB of memory a "
                       "reader may use, so it was stopped.", "memory")
        # the error's type is for the user; its text (which may quote paths) only for the log
        raise fail("failed", f"the reader stopped with an unexpected error ({message.partition(':')[0][:60]}).",
                   kind, detail=message + "\n")
    stats.exit = "ok"
    return Parsed(arrays, reply.get("meta"), stats)


def _decode_reply(out: bytes | bytearray) -> tuple[dict, dict[str, np.ndarray]]:
    """Parse ``SBXR | u64 len | JSON | raw array bytes``; every field checked (the worker may lie)."""
    if out[:4] != _REPLY_MAGIC or len(out) < 12:
        raise ValueError("no reply header")
    (n,) = struct.unpack(">Q", out[4:12])
    if n > len(out) - 12:
        raise ValueError("truncated header")
    reply = json.loads(out[12:12 + n])
    if not isinstance(reply, dict):
        raise ValueError("header is not an object")
    body = memoryview(out)[12 + n:]
    arrays = {}
    for spec in reply.get("arrays", []):
        arrays[str(spec["name"])] = _array_from(body, spec)
    return reply, arrays


def _array_from(body: memoryview, spec: dict) -> np.ndarray:
    dtype, shape, offset = spec.get("dtype"), spec.get("shape"), spec.get("offset")
    if dtype not in _ARRAY_DTYPES:
        raise ValueError(f"dtype {str(dtype)[:20]!r} not allowed")
    if (not isinstance(shape, list) or len(shape) > 8
            or not all(isinstance(s, int) and 0 <= s for s in shape) or not isinstance(offset, int)):
        raise ValueError("bad shape or offset")
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    if offset < 0 or offset + nbytes > len(body):
        raise ValueError("array outside the reply")
    a = np.frombuffer(body[offset:offset + nbytes], dtype=dtype).reshape(shape).copy()
    a.flags.writeable = False
    return a


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# -- the zygote: started once per preload set, forks one worker per request ---------------------
class _Zygote:
    """The parent's handle on one zygote process and its control socket."""

    def __init__(self, preload: tuple[str, ...]):
        self.preload = preload
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None

    def _start(self) -> None:
        """Start the zygote and wait until its preload is imported (torch: ~2 s)."""
        self.close()  # a dead zygote's socket and process handle, if any
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MALLOC_ARENA_MAX": "2"}  # one thread, so fork copies a whole process; few malloc arenas
        code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from gru_core.sandbox import _zygote_main; _zygote_main(int(sys.argv[2]), sys.argv[3:])")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-B", "-c", code, _ROOT, str(child_end.fileno()), *self.preload],
                pass_fds=(child_end.fileno(),), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                cwd=_ROOT)
        finally:
            child_end.close()
        self._sock = parent_end
        try:
            parent_end.settimeout(120)  # a busy machine can take far longer than 2 s
            ready = parent_end.recv(64)
            parent_end.settimeout(None)
        except OSError:
            ready = b""
        if ready != b"ready":
            self.close()
            raise RuntimeError(f"the sandbox zygote did not start (preload {self.preload})")

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def ensure_started(self) -> None:
        with self._lock:
            if not self.running():
                self._start()

    def fork(self, limits: Limits) -> _Worker:
        """A new worker with ``limits``; the zygote is (re)started if it is not running."""
        pipes = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, status
        child_ends = [pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1]]
        ours = [pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0]]
        message = json.dumps({"op": "fork", "limits": asdict(limits)}).encode()
        try:
            with self._lock:
                for attempt in (1, 2):
                    if not self.running():
                        self._start()
                    try:
                        socket.send_fds(self._sock, [message], child_ends)
                        break
                    except OSError:
                        if attempt == 2:
                            raise
                        self.close()
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in child_ends:
                os.close(fd)
        return _Worker(self, *ours)

    def kill(self, pid: int) -> None:
        with self._lock, contextlib.suppress(OSError, AttributeError):
            self._sock.send(json.dumps({"op": "kill", "pid": pid}).encode())

    def close(self) -> None:
        """Closing the control socket makes the zygote kill its workers and exit."""
        # at exit this can run while a warm-up thread is still starting the zygote: work on local
        # references, so neither side sees the other's half-closed state
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            if proc.poll() is None:
                proc.kill()
                proc.wait()


_zygotes: dict[tuple[str, ...], _Zygote] = {}
_zygotes_lock = threading.Lock()


def _zygote(preload: tuple[str, ...]) -> _Zygote:
    with _zygotes_lock:
        if preload not in _zygotes:
            _zygotes[preload] = _Zygote(preload)
        return _zygotes[preload]


def prewarm(preload: tuple[str, ...] = ()) -> None:
    """Start the zygote for ``preload`` in the background, so the first request need not wait.

    Safe to call many times (e.g. on every page run): it only starts what is not running.
    """
    zygote = _zygote(tuple(preload))
    if not zygote.running():
        threading.Thread(target=zygote.ensure_started, name="sandbox-prewarm", daemon=True).start()


@atexit.register
def shutdown() -> None:
    """Stop every zygote (and so every worker). Called at exit; later calls start new ones."""
    with _zygotes_lock:
        zygotes = list(_zygotes.values())
        _zygotes.clear()
    for z in zygotes:
        z.close()


def _zygote_main(sock_fd: int, preload: list[str]) -> None:
    """The zygote's loop: fork a worker per "fork" message, report each one's pid and exit."""
    sock = socket.socket(fileno=sock_fd)
    for fd in (0, 1, 2):  # a closed standard fd would be reused for a worker's pipe and clobbered
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # takes the lowest free number: this one
    for name in preload:
        importlib.import_module(name)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd hears of exits
    signal.set_wakeup_fd(wake_w)
    live: dict[int, int] = {}  # worker pid -> its status pipe
    sock.send(b"ready")
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                _reap(live)
                continue
            message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
            if not message and not fds:  # the parent closed its end, or died
                for pid in live:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                os._exit(0)
            request = json.loads(message)
            if request["op"] == "fork" and len(fds) == 4:
                _fork_worker(request["limits"], fds, live)
            elif request["op"] == "kill" and request.get("pid") in live:
                os.kill(request["pid"], signal.SIGKILL)  # only our own, not yet reaped, worker
            else:
                for fd in fds:
                    os.close(fd)
        _reap(live)


def _fork_worker(limits: dict, fds: list[int], live: dict[int, int]) -> None:
    stdin, stdout, stderr, status = fds
    rss_kb = _status_kb("VmRSS")
    try:
        pid = os.fork()
    except OSError:  # no process to be had: the parent sees its status pipe close, and says so
        for fd in fds:
            os.close(fd)
        return
    if pid == 0:  # the worker: never returns
        code = 1
        try:
            _worker_main(limits, stdin, stdout, stderr)
            code = 0
        finally:
            os._exit(code)
    for fd in (stdin, stdout, stderr):
        os.close(fd)
    os.write(status, f"P {pid}\nR {rss_kb}\n".encode())
    live[pid] = status


def _reap(live: dict[int, int]) -> None:
    """Report every exited worker on its status pipe: ``X code signal maxrss_kb cpu_ms``."""
    while live:
        try:
            pid, wait_status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        status_fd = live.pop(pid, None)
        if status_fd is None:
            continue
        code = os.waitstatus_to_exitcode(wait_status)
        exit_code, sig = (code, 0) if code >= 0 else (-1, -code)
        cpu_ms = int(1000 * (usage.ru_utime + usage.ru_stime))
        with contextlib.suppress(OSError):
            os.write(status_fd, f"X {exit_code} {sig} {usage.ru_maxrss} {cpu_ms}\n".encode())
        os.close(status_fd)


# -- the worker ------------------------------------------------------------------------------------
def _worker_main(limits: dict, stdin: int, stdout: int, stderr: int) -> None:
    """Limits first, then read the request, run the parser, write the reply, exit."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.dup2(stdin, 0)
    os.dup2(stderr, 2)
    reply_fd = os.dup2(stdout, 3)  # prints (to fd 1) go to stderr, never into the reply
    os.dup2(2, 1)
    os.closerange(4, _max_fd())    # the control socket, other workers' pipes: none of its business
    _apply_limits(Limits(**limits))
    parser, options, data = _read_request(0)
    _write_all(reply_fd, _run_parser(parser, options, data))


def _apply_limits(limits: Limits) -> None:
    """Set hard limits too, so nothing in the worker can raise them again."""
    def cap(which: int, soft: int, hard: int | None = None) -> None:
        resource.setrlimit(which, (soft, soft if hard is None else hard))

    cap(resource.RLIMIT_CORE, 0)           # a crash leaves no core file behind
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    cap(resource.RLIMIT_FSIZE, 0)          # writing to any file fails (EFBIG); pipes are not files
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_STACK, limits.stack_mb << 20)
    cap(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1)
    # torch's import alone maps ~640 MB of address space (shared libraries, reserved arenas), so the
    # budget is counted from what this process maps right now, not from zero.
    cap(resource.RLIMIT_AS, _status_kb("VmSize") * 1024 + (limits.memory_mb << 20))
    signal.alarm(math.ceil(limits.wall_seconds) + 2)  # default action: terminate, even if orphaned


def _read_request(fd: int) -> tuple[str, dict, bytes]:
    head = _read_exact(fd, 8)
    if head[:4] != _REQUEST_MAGIC:
        raise RuntimeError("bad request")
    (n,) = struct.unpack(">I", head[4:])
    header = json.loads(_read_exact(fd, n))
    (size,) = struct.unpack(">Q", _read_exact(fd, 8))
    return header["parser"], header["options"], _read_exact(fd, size)


def _run_parser(parser: str, options: dict, data: bytes) -> bytes:
    """The reply bytes: the parser's arrays and meta, or its refusal, or what went wrong.

    Only a ValueError raised by the parser itself is a refusal whose text reaches the user;
    anything else (a bad parser name, a malformed result) is reported as a failure.
    """
    def failure(err: BaseException) -> bytes:
        kind = "memory" if isinstance(err, MemoryError) else "failed"
        return _encode_reply({"ok": False, "kind": kind, "message": f"{type(err).__name__}: {err}"[:300]}, {})

    try:
        module, _, name = parser.partition(":")
        function: Callable = getattr(importlib.import_module(module), name)
    except Exception as err:  # reported, never a traceback
        return failure(err)
    try:
        result = function(data, **options)
    except ValueError as err:
        return _encode_reply({"ok": False, "kind": "refused", "message": str(err)}, {})
    except Exception as err:  # MemoryError included
        return failure(err)
    try:
        arrays, meta = result
        return _encode_reply({"ok": True, "meta": meta}, arrays)
    except Exception as err:  # MemoryError included
        return failure(err)


def _encode_reply(reply: dict, arrays: dict[str, np.ndarray]) -> bytes:
    specs, blobs, offset = [], [], 0
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        if a.dtype.name not in _ARRAY_DTYPES:
            raise TypeError(f"array {name!r} has dtype {a.dtype}; allowed: {sorted(_ARRAY_DTYPES)}")
        specs.append({"name": name, "dtype": a.dtype.name, "shape": list(a.shape), "offset": offset})
        blobs.append(a.tobytes())
        offset += a.nbytes
    header = json.dumps({**reply, "arrays": specs}).encode()
    return b"".join([_REPLY_MAGIC, struct.pack(">Q", len(header)), header, *blobs])


def _read_exact(fd: int, n: int) -> bytes:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = os.readv(fd, [view[got:]])
        if k == 0:
            raise EOFError("request cut short")
        got += k
    return bytes(buf)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while len(view):
        view = view[os.write(fd, view):]


def _status_kb(field_name: str) -> int:
    """A ``kB`` figure from /proc/self/status, e.g. ``VmRSS`` or ``VmSize``."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise KeyError(field_name)


def _max_fd() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if 0 < soft < 1 << 20 else 1 << 16
