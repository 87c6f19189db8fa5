"""Rich progress bars for long work (they go to stderr, so stdout keeps the metrics line)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")
STDERR = Console(stderr=True)


def progress(
    items: Iterable[T], description: str, total: float | None = None, advance=None
) -> Iterator[T]:
    """Iterate ``items`` under a progress bar; ``advance(item)`` says how far each item moves it."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn()]
    columns += [MofNCompleteColumn(), TaskProgressColumn()] if total else []
    columns += [TimeElapsedColumn(), TimeRemainingColumn()] if total else [TimeElapsedColumn()]
    with Progress(*columns, console=STDERR, transient=False) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task, advance(item) if advance else 1)
