"""Progress on long work: rich's bar (done of total, rate, time left) on an interactive terminal, nothing when
stderr is piped or logged, so a script's output stays what the command printed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

Report = Callable[[int, int], None]  # (done, total): called as work is done; a total of 0: not known

T = TypeVar("T")


@contextmanager
def terminal_progress(what: str, console: Console | None = None) -> Iterator[Report]:
    """A `Report` drawing a bar for `what` (plain text, never markup) while the block runs (the bar stays,
    complete or not, when it ends); `console` is stderr's unless given."""
    if console is None:
        if not sys.stderr.isatty():
            yield lambda done, total: None
            return
        from rich.console import Console

        console = Console(stderr=True)
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as bar:
        task = bar.add_task(escape(what), total=None)  # a segment's name may hold "[": text, not rich markup

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, done) if total > 0 else None)

        yield report


def counted(items: Iterable[T], report: Report) -> Iterator[T]:
    """`items`, each reported as done of a total not known beforehand (a scan's)."""
    for done, item in enumerate(items, start=1):
        yield item
        report(done, 0)
