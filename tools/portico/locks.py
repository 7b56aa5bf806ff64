"""One build at a time per cache output, across processes: two Portico processes (two terminals, CI runners
sharing a cache volume) that need the same tool, schema tree or component take turns, and the second finds
the first one's result instead of deleting its half-built directory."""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def building(output: Path) -> Iterator[None]:
    """Hold `output`'s build lock (a `.NAME.lock` file beside it) until the block ends. Callers check whether
    the output is ready again once inside: the process they waited for may have built it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output.with_name(f".{output.name}.lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
