"""task=finetune: fine-tune an encoder on NLI, NER, QA or relation extraction (docs/finetune.md).

The reference's fine-tuning setup and grid: docs/reference.md §7.

One configuration (``finetune.lr``, ``epochs``, ``batch_size``), the reference grid in this
process (``finetune.grid=true``, selected on dev), or the selection over a finished multirun
(``finetune.select_from=<dir>``). Writes ``metrics.json`` (``dev.*``, ``test.*``; ``selected.*``
and ``selection.csv`` for a grid), the trained heads under ``model/``, ``test_predictions.jsonl``,
the trainer's logs (``finetune/<stage>/``) and checkpoints (``checkpoints/<stage>/last.ckpt``).
"""

from __future__ import annotations

import importlib
import itertools
import json
import shutil
from dataclasses import replace
from pathlib import Path

from clinicalnotebert import sweeps
from clinicalnotebert.config import Config, FinetuneConfig
from clinicalnotebert.errors import UserError, require
from clinicalnotebert.finetune.training import CHECKPOINTS, Context, Outcome, Settings
from clinicalnotebert.hub import resolve_pretrained
from clinicalnotebert.io import atomic_dir, flatten_metrics, write_text_atomic
from clinicalnotebert.utils.distributed import one_ddp_job
from clinicalnotebert.utils.runtime import is_rank_zero
from clinicalnotebert.utils.training import TrainingSetup

TASKS = {
    "nli": "clinicalnotebert.finetune.nli:NliTask",
    "ner": "clinicalnotebert.finetune.ner:NerTask",
    "qa": "clinicalnotebert.finetune.qa:QaTask",
    "re": "clinicalnotebert.finetune.relations:RelationTask",
}


def task_class(name: str):
    require(name in TASKS, f"finetune.task '{name}' is not one of {', '.join(TASKS)}")
    module, cls = TASKS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def number(value, name: str, key: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"{key}: {name} must be a number (got {value!r})") from None


def checked_settings(lr, epochs, batch_size, key: str) -> Settings:
    """Grid or single-run values, checked: lr > 0, whole epochs and batch size >= 1."""
    rate = number(lr, "lr", key)
    require(rate > 0, f"{key}: lr must be positive (got {lr})")
    counts = {
        "epochs": number(epochs, "epochs", key),
        "batch_size": number(batch_size, "batch_size", key),
    }
    for name, value in counts.items():
        require(value.is_integer() and value >= 1, f"{key}: {name} must be a whole number >= 1")
    return Settings(rate, int(counts["epochs"]), int(counts["batch_size"]))


def grid_settings(ft: FinetuneConfig) -> list[Settings]:
    """Every combination of ``finetune.grid_values`` (comma-separated, as a sweep override)."""
    values = [
        str(getattr(ft.grid_values, key)).split(",") for key in ("lr", "epochs", "batch_size")
    ]
    return [
        checked_settings(*point, key="finetune.grid_values") for point in itertools.product(*values)
    ]


def prepare_demo_data(cfg: Config) -> None:
    """Generate the demo data when ``finetune.path`` points into it (``data=demo``)."""
    if cfg.data.name != "demo":
        return
    if Path(cfg.finetune.path).resolve().is_relative_to(Path(cfg.data.root).resolve()):
        from clinicalnotebert.demo import ensure_demo_data

        ensure_demo_data(cfg.data)


def trained(task, settings: Settings, ctx: Context) -> Outcome:
    """One configuration trained and scored. Its scores are rank zero's in every process (so
    all take the same grid decisions) and go to its last stage's logger."""
    outcome = task.fit(settings, ctx)
    outcome.metrics = outcome.head.shared(outcome.metrics)
    outcome.head.close(outcome.metrics)
    return outcome


def save_outcome(outcome: Outcome, out_dir: Path, save_model: bool) -> None:
    """The trained heads under ``model/`` (atomic) and the test predictions as JSONL."""
    if not is_rank_zero():
        return
    if save_model:
        with atomic_dir(out_dir / "model") as tmp:
            outcome.export(tmp)
    lines = "".join(json.dumps(row) + "\n" for row in outcome.predictions)
    write_text_atomic(out_dir / "test_predictions.jsonl", lines)


def run_single(task, ctx: Context) -> dict:
    ft = ctx.ft
    settings = checked_settings(ft.lr, ft.epochs, ft.batch_size, key="finetune")
    outcome = trained(task, settings, ctx)
    save_outcome(outcome, ctx.setup.output_dir, ft.save_model)
    return {**settings.echo(), **outcome.metrics}


def selected(jobs: list[sweeps.Job], best: sweeps.Job, metric: str) -> dict:
    """``selected.*``: the best job's metrics, its name and the number of jobs that reported
    ``metric``; ``selection.*``: the shared sweep summary."""
    scored = sum(job.score(metric) is not None for job in jobs)
    return {
        "selected": {**best.metrics, "job": best.name, "jobs": scored},
        "selection": sweeps.summary(jobs, best, metric),
    }


def drop_checkpoints(out_dir: Path, point: str) -> None:
    """A grid point's checkpoints, once another point is better on dev."""
    if is_rank_zero():
        shutil.rmtree(out_dir / CHECKPOINTS / point, ignore_errors=True)


def run_grid(task, ctx: Context) -> dict:
    """Every grid point in turn; the heads, predictions and checkpoints kept are those of the
    best on dev (``sweeps.best_job``: the first on ties)."""
    ft, out_dir = ctx.ft, ctx.setup.output_dir
    metric, where = f"dev.{ft.select_metric}", "finetune.grid"
    jobs: list[sweeps.Job] = []
    kept, summary = None, {}
    for settings in grid_settings(ft):
        outcome = trained(task, settings, replace(ctx, point=settings.tag))
        metrics = flatten_metrics({**settings.echo(), **outcome.metrics})
        require(
            metric in metrics, f"finetune.select_metric: '{metric}' is not among {sorted(metrics)}"
        )
        job = sweeps.Job(settings.tag, out_dir, settings.overrides(), metrics)
        jobs.append(job)
        summary[settings.tag] = {
            split: metrics[f"{split}.{ft.select_metric}"] for split in ("dev", "test")
        }
        if job.score(metric) is not None and sweeps.best_job(jobs, metric, where) is job:
            save_outcome(outcome, out_dir, ft.save_model)
            if kept is not None:
                drop_checkpoints(out_dir, kept.name)
            kept = job
        else:
            drop_checkpoints(out_dir, job.name)
    best = sweeps.best_job(jobs, metric, where)
    if is_rank_zero():
        rows = sweeps.trial_rows(jobs, [metric, f"test.{ft.select_metric}"], best)
        sweeps.write_trials(out_dir, rows)
    return {**selected(jobs, best, metric), "grid": summary}


def select_from_sweep(ft: FinetuneConfig, out_dir: Path) -> dict:
    """The best job of a finished multirun on dev, and ``selection.csv`` listing every job."""
    metric = f"dev.{ft.select_metric}"
    jobs = sweeps.read_jobs(ft.select_from, "finetune.select_from")
    best = sweeps.best_job(jobs, metric, f"finetune.select_from '{ft.select_from}'")
    if is_rank_zero():
        rows = sweeps.trial_rows(jobs, [metric, f"test.{ft.select_metric}"], best)
        sweeps.write_trials(out_dir, rows)
    return selected(jobs, best, metric)


def run(cfg: Config) -> dict:
    ft = cfg.finetune
    setup = TrainingSetup.from_config(cfg)
    if ft.select_from:
        return select_from_sweep(ft, setup.output_dir)
    cls = task_class(ft.task)
    prepare_demo_data(cfg)
    encoder = resolve_pretrained(cfg.encoder.path, "encoder.path")
    ctx = Context(ft, encoder, int(ft.seed), setup)
    task = cls(ctx)  # reads and tokenizes the data once, for every grid point
    runner = run_grid if ft.grid else run_single
    with one_ddp_job(setup.output_dir, ctx.trainers):
        metrics = runner(task, ctx)
    return {**metrics, "data": task.data_stats()}
