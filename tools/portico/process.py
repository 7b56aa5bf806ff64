"""The one place Portico starts processes (like chart-testing's pkg/exec).

Every CLI Portico drives goes through `Runner`: one timeout policy, one way of
cutting stderr into an error message (`CommandError`), optional logging of
every command (`portico --verbose`) and of its output to a log file. The typed
clients in `portico.clients` take a `Runner`; tests hand them a `FakeRunner`.

Stdlib only: `portico setup` uses it before anything else is installed.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Mapping, Sequence

from portico.errors import ToolError

DEFAULT_TIMEOUT_S = 600.0
TAIL_LINES = 12
TAIL_CHARS = 1500

_verbose = os.environ.get("PORTICO_VERBOSE") == "1"


def set_verbose(on: bool) -> None:
    """Log every command to stderr before it runs (`portico --verbose`)."""
    global _verbose
    _verbose = on


def tail(text: str | bytes | None, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    """The end of a command's output: the part that says why it failed."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    kept = "\n".join(text.strip().splitlines()[-lines:])
    return kept[-chars:]


def display(args: Sequence[str]) -> str:
    """A command as a user would type it, with the binary's directory dropped."""
    return shlex.join([Path(args[0]).name, *map(str, args[1:])]) if args else ""


class CommandError(ToolError):
    """A command failed: what ran, its exit code and the tail of its stderr.

    The one hook from a failed run to an error: `Runner.run(..., failure=SomeError)` raises that subclass, which
    may word its message (`describe`) and set its own exit code (a refusal the user must fix is a finding, 1; a
    tool that broke is `EXIT_TOOL`)."""

    def __init__(self, args: Sequence[str], returncode: int | None, stderr: str | bytes | None = "",
                 *, summary: str | None = None, log: Path | None = None, stdout: str | bytes | None = ""):
        self.args_run = [str(a) for a in args]
        self.returncode = returncode
        self.stderr_tail = tail(stderr)
        self.summary = summary
        super().__init__(self.describe(_text(stderr), _text(stdout), log))

    def describe(self, stderr: str, stdout: str, log: Path | None) -> str:
        head = self.summary or f"`{_short(self.args_run)}`"
        why = "timed out" if self.returncode is None else f"exit {self.returncode}"
        message = f"{head} failed ({why})"
        if self.stderr_tail:
            message += f": {self.stderr_tail}"
        if log is not None:
            message += f" (log: {log})"
        return message


def _text(out: str | bytes | None) -> str:
    if isinstance(out, bytes):
        return out.decode(errors="replace")
    return out or ""


def _short(args: Sequence[str], words: int = 4) -> str:
    shown = display(args[:words])
    return shown + (" ..." if len(args) > words else "")


@dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str | bytes
    stderr: str | bytes
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Runner:
    """Runs commands; `env` is added to the process environment (PATH is prepended, not replaced)."""

    env: Mapping[str, str] = field(default_factory=dict)
    path_prefix: Sequence[Path | str] = ()
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        if extra:
            env.update(extra)
        if self.path_prefix:
            env["PATH"] = os.pathsep.join([*map(str, self.path_prefix), env.get("PATH", "")])
        return env

    def _announce(self, args: Sequence[str], cwd: Path | str | None) -> None:
        if _verbose:
            where = f" (in {cwd})" if cwd else ""
            self.log(f"+ {display(args)}{where}")

    def run(self, args: Sequence[str | Path], *, input: str | bytes | None = None, cwd: Path | str | None = None,
            env: Mapping[str, str] | None = None, timeout: float | None = DEFAULT_TIMEOUT_S, check: bool = True,
            text: bool = True, log_to: Path | None = None, summary: str | None = None,
            ok_codes: Sequence[int] = (0,), failure: type[CommandError] = CommandError) -> Completed:
        """Run to completion. With `log_to`, output goes to that file (appended) instead of memory.
        With `check`, an exit code outside `ok_codes` (or a timeout) raises `failure`."""
        argv = [str(a) for a in args]
        self._announce(argv, cwd)
        started = time.monotonic()
        try:
            if log_to is not None:
                log_to.parent.mkdir(parents=True, exist_ok=True)
                with log_to.open("ab") as fh:
                    fh.write(f"$ {display(argv)}\n".encode())
                    fh.flush()
                    proc = subprocess.run(argv, input=input.encode() if isinstance(input, str) else input,
                                          cwd=cwd, env=self.environ(env), stdout=fh, stderr=subprocess.STDOUT,
                                          timeout=timeout)
                stdout: str | bytes = ""
                stderr: str | bytes = _read_tail(log_to)
            else:
                proc = subprocess.run(argv, input=input, cwd=cwd, env=self.environ(env), capture_output=True,
                                      text=text, timeout=timeout)
                stdout, stderr = proc.stdout, proc.stderr
        except FileNotFoundError as exc:
            raise ToolError(f"{argv[0]} is not installed or not on PATH (run `portico setup`)") from exc
        except subprocess.TimeoutExpired as exc:
            # A command that never finished is a tool or machine problem, whatever the client makes of a refusal.
            raise CommandError(argv, None, exc.stderr, summary=summary, log=log_to, stdout=exc.stdout) from exc
        done = Completed(tuple(argv), proc.returncode, stdout, stderr, time.monotonic() - started)
        if check and proc.returncode not in ok_codes:
            # Killed by a signal (a negative code): the tool did not refuse anything, it died.
            error = failure if proc.returncode > 0 else CommandError
            raise error(argv, proc.returncode, stderr, summary=summary, log=log_to, stdout=stdout)
        return done

    def start(self, args: Sequence[str | Path], *, cwd: Path | str | None = None, env: Mapping[str, str] | None = None,
              stdin: bool = False, stdout: bool = False, stderr_to: Path | None = None, text: bool = True,
              bufsize: int = -1, stdout_to: Path | None = None) -> "Process":
        """Start in the background; `Process.stop()` ends it (also on errors: use it as a context manager).
        `stdout_to` / `stderr_to`: files the output goes to (stdout's is written anew, stderr's appended)."""
        argv = [str(a) for a in args]
        self._announce(argv, cwd)
        err: IO | int
        out: IO | int = subprocess.PIPE if stdout else subprocess.DEVNULL
        err_file = out_file = None
        if stderr_to is not None:
            stderr_to.parent.mkdir(parents=True, exist_ok=True)
            err_file = stderr_to.open("ab")
            err = err_file
        else:
            err = subprocess.PIPE
        if stdout_to is not None:
            out = out_file = stdout_to.open("wb")
        try:
            popen = subprocess.Popen(argv, cwd=cwd, env=self.environ(env),
                                     stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=out, stderr=err, text=text, bufsize=bufsize,
                                     # The death signal follows the starting thread: only the main one lives
                                     # as long as the process.
                                     preexec_fn=_die_with_parent
                                     if threading.current_thread() is threading.main_thread() else None)
        except FileNotFoundError as exc:
            raise ToolError(f"{argv[0]} is not installed or not on PATH (run `portico setup`)") from exc
        finally:
            for file in (err_file, out_file):
                if file is not None:
                    file.close()
        return Process(argv, popen, stderr_to)


def _die_with_parent() -> None:
    """Linux: a background process gets SIGTERM when Portico dies, so a killed run leaves no load loop or
    server behind (a `finally` does not run on SIGKILL or an unhandled SIGTERM)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _read_tail(path: Path, size: int = 8192) -> bytes:
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - size))
        return fh.read()


class Process:
    """A started process: its pipes, and a stop that always reaps it."""

    def __init__(self, args: list[str], popen: subprocess.Popen, stderr_log: Path | None):
        self.args, self.popen, self.stderr_log = args, popen, stderr_log

    @property
    def stdin(self):
        return self.popen.stdin

    @property
    def stdout(self):
        return self.popen.stdout

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise CommandError(self.args, None, self.stderr_text()) from exc

    def feed(self, data: str | bytes) -> None:
        """Write all of stdin and close it. A process that ended before it read (a bad flag, an unreachable
        cluster) is not this write's error: its exit code and stderr say why, and the caller reads them."""
        with contextlib.suppress(BrokenPipeError):
            self.popen.stdin.write(data)
        with contextlib.suppress(BrokenPipeError):  # the flush of what was buffered meets the same closed pipe
            self.popen.stdin.close()

    def stderr_text(self) -> str:
        if self.stderr_log is not None:
            return tail(_read_tail(self.stderr_log))
        if self.popen.stderr is not None and self.popen.poll() is not None:
            return tail(self.popen.stderr.read())
        return ""

    def error(self, summary: str | None = None) -> CommandError:
        return CommandError(self.args, self.popen.returncode, self.stderr_text(), summary=summary,
                            log=self.stderr_log)

    def interrupt(self) -> None:
        """SIGINT while it runs: the graceful stop of the load tools (vegeta, ghz) that write results as they go."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)

    def finish_interrupted(self, timeout: float, ok: Sequence[int], what: str) -> None:
        """Interrupt, wait for the exit, and fail unless it exited with one of `ok` (or from the SIGINT)."""
        self.interrupt()
        code = self.wait(timeout)
        if code not in (*ok, -signal.SIGINT):
            raise ToolError(f"{what} exited {code}: {self.stderr_text()}")

    def stop(self, grace: float = 5.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        return self.popen.returncode

    def __enter__(self) -> "Process":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class FakeRunner(Runner):
    """For unit tests: records every command and answers from `responses` (first matching prefix wins)."""

    responses: list[tuple[tuple[str, ...], Completed]] = field(default_factory=list)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def answer(self, prefix: Sequence[str], stdout: str = "", returncode: int = 0, stderr: str = "") -> None:
        self.responses.append((tuple(prefix), Completed(tuple(prefix), returncode, stdout, stderr, 0.0)))

    def run(self, args, *, check: bool = True, summary: str | None = None, ok_codes: Sequence[int] = (0,),
            failure: type[CommandError] = CommandError, **_kw) -> Completed:
        argv = tuple(str(a) for a in args)
        self.calls.append(argv)
        for prefix, done in self.responses:
            names = (Path(argv[0]).name, *argv[1:])
            if names[:len(prefix)] == prefix or argv[:len(prefix)] == prefix:
                if check and done.returncode not in ok_codes:
                    raise failure(argv, done.returncode, done.stderr, summary=summary, stdout=done.stdout)
                return Completed(argv, done.returncode, done.stdout, done.stderr, 0.0)
        raise AssertionError(f"FakeRunner: no answer for {display(argv)}")


_default = Runner()


def default_runner() -> Runner:
    return _default
