"""Errors the CLI turns into a one-line cause and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # findings, or a check that failed
EXIT_USAGE = 2  # a flag, file or value the user gave is wrong
EXIT_TOOL = 3  # a tool or the environment broke (helm crashed, docker is down, a timeout): rerun or fix the machine
EXIT_INTERNAL = 4  # a bug in portico itself
EXIT_INTERRUPTED = 130


class PorticoError(Exception):
    """An expected failure: bad input, a missing tool, a failed step.

    The CLI prints `portico: <message>` and exits with `exit_code`, no traceback.
    """

    exit_code = EXIT_USAGE


class InputError(PorticoError):
    """A file, flag or value the user gave is wrong. Name the file and key path."""

    def __init__(self, message: str, *, source: str | None = None, key_path: str | None = None):
        where = ": ".join(part for part in (source, key_path) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.key_path = key_path


class ToolError(PorticoError):
    """An external tool (helm, kubeconform, kind, docker) failed or is missing: not the user's input, not a
    finding, so a CI system can tell a broken run from a failed check."""

    exit_code = EXIT_TOOL
