"""Pick the best configuration of a grid on dev and report its test scores (SPEC §7: the reference
left this step outside its code).

Used by ``finetune.select_from=<multirun dir>`` (jobs of ``-m hparams_search=finetune_grid``),
by the in-process grid (``finetune.grid=true``) and by any later stage that summarises sweeps.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from clinicalnotebert.errors import require
from clinicalnotebert.io import read_json

Job = tuple[str, dict[str, Any]]  # (job name, its flat metrics)


def job_order(path: Path) -> list:
    """Natural order of job dirs: 2 before 10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def read_jobs(multirun_dir: str | Path) -> list[Job]:
    """``(job dir relative to multirun_dir, metrics)`` of every ``metrics.json`` below it."""
    root = Path(multirun_dir)
    require(root.is_dir(), f"finetune.select_from '{root}' is not a directory")
    files = sorted(root.rglob("metrics.json"), key=job_order)
    return [(str(path.parent.relative_to(root)), read_json(path)) for path in files]


def has_score(metrics: dict[str, Any], key: str) -> bool:
    value = metrics.get(key)
    return isinstance(value, int | float) and not math.isnan(value)


def select_best(jobs: list[Job], key: str, where: str) -> dict[str, Any]:
    """The job with the highest ``key`` (the first one on ties): its metrics, its name and the
    number of jobs compared, as ``selected.*``."""
    scored = [(name, metrics) for name, metrics in jobs if has_score(metrics, key)]
    require(
        bool(scored),
        f"{where}: no job reports '{key}' (set finetune.task to the task the sweep ran)",
    )
    name, best = max(scored, key=lambda job: job[1][key])
    return {"selected": {**best, "job": name, "jobs": len(scored)}}
