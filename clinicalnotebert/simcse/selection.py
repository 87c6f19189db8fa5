"""Model selection over a finished sweep (SPEC 3 pipeline): read every job, pick the best.

A sweep dir (``-m`` with the basic or the Optuna sweeper) holds one sub-dir per job with
``.hydra/overrides.yaml``, ``.hydra/config.yaml`` and, when the job finished, ``metrics.json``.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import read_json


@dataclass(frozen=True)
class Trial:
    job: str
    path: Path
    overrides: dict[str, str]
    metrics: dict | None  # None: the job did not finish

    @property
    def config_file(self) -> Path:
        return self.path / ".hydra" / "config.yaml"


def parse_overrides(path: Path) -> dict[str, str]:
    from omegaconf import OmegaConf

    items = [str(item) for item in OmegaConf.load(path)]
    return dict(item.lstrip("+~").split("=", 1) for item in items if "=" in item)


def job_order(path: Path) -> tuple:
    return (0, int(path.name), "") if path.name.isdigit() else (1, 0, path.name)


def read_trials(sweep_dir: str | Path) -> list[Trial]:
    """Every job of a sweep dir, in job order."""
    root = Path(str(sweep_dir)).expanduser()
    if not root.is_dir():
        raise UserError(f"simcse.select_from '{root}' does not exist")
    jobs = sorted((p.parent.parent for p in root.glob("*/.hydra/overrides.yaml")), key=job_order)
    if not jobs:
        raise UserError(f"simcse.select_from '{root}' holds no sweep jobs (no */.hydra/)")
    trials = []
    for job in jobs:
        metrics_file = job / "metrics.json"
        metrics = read_json(metrics_file) if metrics_file.is_file() else None
        trials.append(Trial(job.name, job, parse_overrides(job / ".hydra/overrides.yaml"), metrics))
    return trials


def swept_keys(trials: list[Trial]) -> list[str]:
    """The override keys whose value differs between jobs (the searched hyperparameters)."""
    keys = dict.fromkeys(key for t in trials for key in t.overrides)
    return [k for k in keys if len({t.overrides.get(k) for t in trials}) > 1]


def score(trial: Trial, metric: str) -> float:
    if metric not in trial.metrics:
        raise UserError(
            f"job '{trial.path}' has no '{metric}' in metrics.json (run the sweep with an STS "
            f"evaluation, e.g. hparams_search=simcse_grid)"
        )
    return float(trial.metrics[metric])


def best_trial(trials: list[Trial], metric: str) -> Trial:
    """The finished job with the highest ``metric`` (the first one on ties); a NaN score (e.g. the
    correlation of a collapsed encoder's constant similarities) never wins."""
    finished = [t for t in trials if t.metrics is not None]
    if not finished:
        raise UserError(f"no job of the sweep finished (none has metrics.json): {trials[0].path}")
    scored = [t for t in finished if not math.isnan(score(t, metric))]
    if not scored:
        raise UserError(f"every finished job of the sweep scored NaN on '{metric}'")
    return max(scored, key=lambda t: score(t, metric))


def trial_rows(trials: list[Trial], metrics: list[str], best: Trial) -> list[dict]:
    keys = swept_keys(trials)
    rows = []
    for t in trials:
        row = {"job": t.job, **{k: t.overrides.get(k, "") for k in keys}}
        for metric in metrics:
            row[metric] = "" if t.metrics is None else t.metrics.get(metric, "")
        row["status"] = "failed" if t.metrics is None else ("best" if t is best else "done")
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
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(row[k]) for k in header) + " |" for row in rows]
    return "\n".join(lines) + "\n"
