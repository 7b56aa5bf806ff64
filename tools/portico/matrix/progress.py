"""Progress bars for the matrix stages (rich), or plain stage lines off a terminal."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def rich_progress(console: Console, enabled: bool = True) -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    if not enabled:
        yield lambda _stage, _total: (lambda _n: None)
        return
    if not console.is_terminal:
        def plain(stage: str, total: int) -> Callable[[int], None]:
            console.print(f"{stage}: {total} item(s)")
            return lambda _n: None

        yield plain
        return
    with Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        def start(stage: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(stage, total=total)
            return lambda n: progress.advance(task, n)

        yield start
