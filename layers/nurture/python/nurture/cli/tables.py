"""Tables in the terminal: rich's on an interactive one; each row's plain line when stdout is piped or redirected,
so what scripts read stays what it was (and `--json` is there for them)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

Row = Sequence[object]


def print_table(columns: Sequence[str], rows: Sequence[Row], plain: Callable[[Row], str],
                console: Console | None = None) -> None:
    """`rows` under `columns` (values shown as text, never as rich markup); `plain(row)` each when not on a
    terminal. `console`: where to draw (stdout's when on a terminal)."""
    if console is None:
        if not sys.stdout.isatty():
            for row in rows:
                print(plain(row))
            return
        from rich.console import Console

        console = Console()
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(*columns, box=box.SIMPLE_HEAD)
    for row in rows:  # Text cells: no markup, emoji codes or highlighting is read into a value
        table.add_row(*(Text("" if value is None else str(value)) for value in row))
    console.print(table)
