"""The evaluated models' lanes run on a pool of spawned workers (clinicalnotebert/pipeline/lanes.py)."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCKS = []  # a worker's locks live as long as the worker, as a progress bar's write lock does


def keep_a_lock(value: int) -> dict:
    """A lane step that makes a semaphore in the worker and keeps it."""
    LOCKS.append(multiprocessing.get_context("spawn").Lock())
    return {f"step{value}": value}


def test_lane_workers_exit_on_their_own_so_nothing_leaks():
    """Workers that were terminated instead of left to exit skip their finalizers, and Python's
    resource tracker then prints a 'leaked semaphore' warning on the user's terminal (it did in
    about one run in four). Six pools in one process: the merged metrics, and no warning."""
    code = (
        "from clinicalnotebert.pipeline.lanes import run_lanes\n"
        "from tests.pipeline.test_lanes import keep_a_lock\n"
        "for _ in range(6):\n"
        "    assert run_lanes([[1], [2, 3]], 2, keep_a_lock) == {'step1': 1, 'step2': 2, 'step3': 3}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "leaked" not in result.stderr, result.stderr[-2000:]


def torch_threads(value: int) -> dict:
    """A lane step that imports torch, as a stage does, and reports its thread count."""
    import torch

    return {f"threads{value}": torch.get_num_threads()}


def test_each_worker_gives_torch_its_share_of_the_cores(monkeypatch):
    """The worker sets the thread count before torch is first imported (by the first stage)."""
    import os

    from clinicalnotebert.pipeline.lanes import run_lanes

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # the workers inherit this process's
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # one each; torch alone takes every core
    assert run_lanes([[1], [2]], 2, torch_threads) == {"threads1": 1, "threads2": 1}
