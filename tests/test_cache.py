"""The cache helper: one entry per key, built once even when processes ask at the same time."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from clinicalnotebert.cache import load_or_build


def build_slowly(out: Path) -> None:
    """A build that takes long enough for a second process to ask meanwhile; it counts itself in
    a log beside the entry."""
    import time

    with open(out.parent / "builds.log", "a") as log:
        log.write("built\n")
    time.sleep(1.0)
    (out / "value.txt").write_text("42")


def read_value(directory: Path) -> str:
    return (directory / "value.txt").read_text()


def ask(directory: str, results) -> None:
    value, reused = load_or_build(Path(directory), {"key": 1}, build_slowly, read_value)
    results.put((value, reused))


def test_two_processes_asking_at_once_build_the_entry_once(tmp_path):
    entry = tmp_path / "entry"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=ask, args=(str(entry), results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    answers = sorted(results.get(timeout=5) for _ in workers)
    assert answers == [("42", False), ("42", True)]  # one built it, the other waited and read it
    assert (tmp_path / "builds.log").read_text() == "built\n"
    # and in the same process, later: reused
    assert load_or_build(entry, {"key": 1}, build_slowly, read_value) == ("42", True)
