"""Atomic writes and the debris a killed writer leaves: removed by the next write of the same
target, only when the writer is gone and only by our naming pattern."""

from __future__ import annotations

import os
import subprocess
import sys

from clinicalnotebert.io import atomic_dir, remove_debris, write_text_atomic


def dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_killed_writers_temp_dirs_go_with_the_next_write(tmp_path):
    target = tmp_path / "encoder"
    gone = dead_pid()
    (tmp_path / f".tmp-encoder-{gone}").mkdir()
    (tmp_path / f".tmp-encoder-{gone}" / "model.safetensors").write_bytes(b"half")
    (tmp_path / f".old-encoder-{gone}").mkdir()
    alive = tmp_path / f".tmp-encoder-{os.getppid()}"  # a live writer (our parent)
    alive.mkdir()
    other = tmp_path / f".tmp-encoders-{gone}"  # another target's
    other.mkdir()
    with atomic_dir(target) as tmp:
        (tmp / "done").write_text("yes")
    assert (target / "done").read_text() == "yes"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["encoder", alive.name, other.name])


def test_a_file_writer_removes_its_own_debris_too(tmp_path):
    gone = dead_pid()
    debris = tmp_path / f".tmp-metrics.json-{gone}"
    debris.write_text('{"half')
    write_text_atomic(tmp_path / "metrics.json", "{}\n")
    assert not debris.exists() and (tmp_path / "metrics.json").read_text() == "{}\n"


def test_remove_debris_leaves_names_it_did_not_make(tmp_path):
    gone = dead_pid()
    (tmp_path / ".tmp-x-notapid").mkdir()
    (tmp_path / f".tmp-x-{gone}").write_text("")
    assert remove_debris(tmp_path / "x") == 1
    assert (tmp_path / ".tmp-x-notapid").exists()
