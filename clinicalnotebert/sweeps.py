"""Read the jobs of a finished sweep (or any tree of run dirs), pick the best, write the trials.

A job is a run dir: ``.hydra/config.yaml`` (and ``overrides.yaml``) from Hydra, and
``metrics.json`` once it finished. Used by SimCSE, fine-tuning and prediction selection
(``<stage>.select_from=<multirun dir>``) and by the report's run collection.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import write_text_atomic

RUN_CONFIG = Path(".hydra") / "config.yaml"
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class Job:
    name: str  # its dir relative to the sweep dir ("3", "pretrain", ...)
    path: Path
    overrides: dict[str, str]  # the command-line overrides it ran with
    metrics: dict[str, Any] | None  # None: unfinished, or an unreadable metrics.json

    @property
    def config_file(self) -> Path:
        return self.path / RUN_CONFIG

    def score(self, metric: str) -> float | None:
        """The job's ``metric`` as a number; None when it has none (or NaN, e.g. the correlation
        of a collapsed encoder's constant similarities)."""
        value = (self.metrics or {}).get(metric)
        if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
            return None
        return float(value)


def natural_key(path: Path) -> list:
    """Job order: 2 before 10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def read_metrics(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent, cut off or not JSON: not a finished job
        return None


def read_overrides(path: Path) -> dict[str, str]:
    from omegaconf import OmegaConf

    if not path.is_file():
        return {}
    items = [str(item) for item in OmegaConf.load(path)]
    return dict(item.lstrip("+~").split("=", 1) for item in items if "=" in item)


def read_jobs(root: str | Path, key: str) -> list[Job]:
    """Every run dir at or below ``root``, in natural order; ``key`` names the setting that gave
    ``root`` in the error when there is none."""
    root = Path(str(root)).expanduser()
    if not root.is_dir():
        raise UserError(f"{key} '{root}' is not a directory")
    dirs = sorted({c.parent.parent for c in root.rglob(str(RUN_CONFIG))}, key=natural_key)
    if not dirs:
        raise UserError(f"{key} '{root}' holds no runs (no .hydra/config.yaml below it)")
    return [
        Job(
            str(d.relative_to(root)) if d != root else d.name,
            d,
            read_overrides(d / ".hydra" / "overrides.yaml"),
            read_metrics(d / METRICS_FILE),
        )
        for d in dirs
    ]


def best_job(jobs: list[Job], metric: str, where: str) -> Job:
    """The finished job with the highest ``metric`` (the first one on ties); NaN never wins."""
    finished = [job for job in jobs if job.metrics is not None]
    if not finished:
        raise UserError(f"{where}: no job finished (none has {METRICS_FILE})")
    scored = [job for job in finished if job.score(metric) is not None]
    if not scored:
        raise UserError(
            f"{where}: no finished job reports a number for '{metric}' "
            f"(keys of the first: {', '.join(sorted(finished[0].metrics)[:12])} ...)"
        )
    return max(scored, key=lambda job: job.score(metric))


def swept_keys(jobs: list[Job]) -> list[str]:
    """The override keys whose value differs between jobs (the searched hyperparameters)."""
    keys = dict.fromkeys(key for job in jobs for key in job.overrides)
    return [k for k in keys if len({job.overrides.get(k) for job in jobs}) > 1]


def trial_rows(jobs: list[Job], metrics: list[str], best: Job) -> list[dict]:
    """One row per job: its swept values, the ``metrics`` and its status (best, done, failed)."""
    keys = swept_keys(jobs)
    rows = []
    for job in jobs:
        row = {"job": job.name, **{k: job.overrides.get(k, "") for k in keys}}
        for metric in metrics:
            row[metric] = "" if job.metrics is None else job.metrics.get(metric, "")
        row["status"] = "failed" if job.metrics is None else ("best" if job is best else "done")
        rows.append(row)
    return rows


def rows_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def rows_markdown(rows: list[dict]) -> str:
    def cell(value) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(row[k]) for k in header) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_trials(out_dir: Path, rows: list[dict]) -> None:
    """``selection.csv`` (every job, its swept values and scores) into the run dir."""
    write_text_atomic(Path(out_dir) / "selection.csv", rows_csv(rows))


def summary(jobs: list[Job], best: Job, metric: str) -> dict[str, Any]:
    """The ``selection.*`` metrics of a selection."""
    return {
        "trials": len(jobs),
        "finished": sum(job.metrics is not None for job in jobs),
        "best_job": best.name,
        "best_score": best.score(metric),
        "best": {key: best.overrides.get(key, "") for key in swept_keys(jobs)},
    }
