"""Running one task: the step the entrypoint and the pipeline share (below every stage)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from clinicalnotebert.config import typed
from clinicalnotebert.io import flatten_metrics, write_json_atomic
from clinicalnotebert.utils.runtime import is_rank_zero

__all__ = ["execute", "stage_entry"]


def execute(cfg: DictConfig) -> dict[str, Any]:
    """Run the task named by ``cfg.task.name`` and write its ``metrics.json``; return the metrics."""
    from clinicalnotebert.utils.console import quiet_third_party
    from clinicalnotebert.utils.runtime import finish_trackers, seed_everything

    settings = typed(cfg)
    quiet_third_party()
    seed_everything(settings.seed)
    module = importlib.import_module(f"clinicalnotebert.{settings.task.package}.task")
    metrics_file = Path(settings.paths.output_dir) / "metrics.json"
    if is_rank_zero():  # a rerun in the same dir: old scores must not outlive a failed rerun
        metrics_file.unlink(missing_ok=True)
    try:
        metrics = flatten_metrics(module.run(settings) or {})
    finally:
        finish_trackers()
    if is_rank_zero():
        write_json_atomic(metrics_file, metrics)
    return metrics


def stage_entry(package: str):
    """A stage package's ``run``, which imports ``<package>.task`` on its first call: code that
    uses a stage's library modules (``simcse`` scoring with ``sts.evaluate``) never loads that
    stage's task module, so the import graph stays one-way."""

    def run(cfg):
        return importlib.import_module(f"{package}.task").run(cfg)

    run.__doc__ = f"Run the stage: ``{package}.task.run``."
    return run
