"""Evaluated models side by side: ``pipeline.workers`` processes each run whole models' stage
chains (a model's stages depend on each other, never on another model's), so small stages that
cannot fill the machine with one model's work run in parallel instead.

A worker is a fresh (spawned) process that imports torch once and runs its stages in-process, one
thread per core it is given; the stages it runs leave the same run dirs, and the same ``error:``
line stops the pipeline when one fails.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable

from clinicalnotebert.errors import UserError

log = logging.getLogger(__name__)


def blocks(steps: list) -> list[list[list]]:
    """The steps in order, as blocks of lanes: consecutive steps of evaluated models form one
    block with a lane per model; any other step is a block with a single one-step lane."""
    grouped: list[list[list]] = []
    lanes: dict[str, list] = {}
    for step in steps:
        model = step.stage.model
        if model is None:
            if lanes:
                grouped.append(list(lanes.values()))
                lanes = {}
            grouped.append([[step]])
        else:
            lanes.setdefault(model, []).append(step)
    if lanes:
        grouped.append(list(lanes.values()))
    return grouped


def start_worker(threads: int) -> None:
    """A worker's threads and console: the project's lines on stderr, as in the pipeline's own
    process. Torch is not imported here (seconds per worker): it takes its thread count from
    the environment when the first stage imports it."""
    from clinicalnotebert.utils.console import OwnRecords

    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(OwnRecords())
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[handler])


def run_lane(lane: list, run_step: Callable[[object], dict]) -> dict:
    metrics: dict = {}
    for step in lane:
        metrics.update(run_step(step))
    return metrics


def run_lanes(lanes: list[list], workers: int, run_step: Callable[[object], dict]) -> dict:
    """Run the lanes on ``workers`` processes; the first failure stops the rest."""
    processes = min(workers, len(lanes))
    threads = max(1, (os.cpu_count() or 1) // processes)
    log.info("%d models on %d workers, %d thread(s) each", len(lanes), processes, threads)
    context = multiprocessing.get_context("spawn")
    metrics: dict = {}
    with context.Pool(processes, initializer=start_worker, initargs=(threads,)) as pool:
        pending = [pool.apply_async(run_lane, (lane, run_step)) for lane in lanes]
        for result in pending:
            try:
                metrics.update(result.get())
            except UserError:
                pool.terminate()
                raise
        # let the workers exit on their own: a terminated worker skips its finalizers, and the
        # semaphores it made (progress-bar locks) are then reported leaked at shutdown
        pool.close()
        pool.join()
    return metrics
