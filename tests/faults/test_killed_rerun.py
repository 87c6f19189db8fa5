"""The fault matrix's ``killed_rerun`` class: a run killed during a write leaves only temporary
debris (``.tmp-<target>-<pid>``), and the same command rerun in the same run dir removes it and
finishes with whole artifacts and a ``metrics.json``.

Every task is checked with the debris its writers leave (``matrix.RERUNS``); one real kill
(SIGKILL to the process group of ``task=prepare`` while it writes its corpus) shows that the
simulation matches what a kill leaves.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.faults.conftest import csv_prepare_args, write_notes_csv
from tests.faults.matrix import Env, reruns
from tests.faults.verify import assert_loads, debris
from tests.helpers import REPO, run_main


@pytest.mark.parametrize("case", reruns())
def test_killed_rerun(case, request, tmp_path, dead_pid):
    env = Env(request, tmp_path)
    run_dir = tmp_path / "run"
    args = case.args(env, run_dir)
    left = case.killed(env, run_dir, args, dead_pid)
    assert left and all(path.exists() for path in left)
    assert not (run_dir / "metrics.json").exists()

    result = run_main(args, run_dir)  # the rerun: the same command in the same run dir
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert not [path for path in left if path.exists()]
    assert not debris(run_dir), debris(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for artifact in case.artifacts:
        assert_loads(run_dir / artifact)
    if case.check:
        case.check(env, run_dir, metrics)


def test_prepare_killed_during_its_corpus_write_then_rerun(tmp_path):
    """A real kill: ``task=prepare`` in a process of its own gets SIGKILL (its whole process
    group) once its corpus is being written; the run dir then holds the temporary corpus and no
    ``corpus/`` or ``metrics.json``; the rerun removes the debris and writes a corpus that
    loads."""
    notes = write_notes_csv(tmp_path / "notes.csv", notes=600)
    run_dir = tmp_path / "run"
    args = csv_prepare_args(notes, "prepare.chunk_size=16")
    command = [sys.executable, "-m", "clinicalnotebert", *args, f"hydra.run.dir={run_dir}"]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    writing = []
    while not writing and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
        writing = list(run_dir.glob(".tmp-corpus-*")) if run_dir.is_dir() else []
    alive = process.poll() is None
    if alive:
        time.sleep(0.2)  # into the write
        os.killpg(process.pid, signal.SIGKILL)
    stderr = process.communicate()[1].decode(errors="replace")
    assert alive and writing, f"prepare ended before its corpus write: {stderr[-2000:]}"
    assert process.returncode == -signal.SIGKILL
    assert (run_dir / f".tmp-corpus-{process.pid}").is_dir()
    assert not (run_dir / "corpus").exists() and not (run_dir / "metrics.json").exists()

    result = run_main(args, run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not debris(run_dir), debris(run_dir)
    assert_loads(run_dir / "corpus")
    assert json.loads((run_dir / "metrics.json").read_text())["notes_kept"] == 600
