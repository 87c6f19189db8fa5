"""task=finetune: fine-tune an encoder on NLI, NER, QA or relation extraction (SPEC §7).

One configuration (``finetune.lr``, ``epochs``, ``batch_size``), the reference grid in this
process (``finetune.grid=true``, selected on dev), or the selection over a finished multirun
(``finetune.select_from=<dir>``). Writes ``metrics.json`` (``dev.*``, ``test.*``; ``selected.*``
for a grid), the trained heads under ``model/`` and ``test_predictions.jsonl``.
"""

from __future__ import annotations

import importlib
import itertools
import json
from dataclasses import replace
from pathlib import Path

from clinicalnotebert.errors import UserError, require
from clinicalnotebert.finetune.selection import read_jobs, select_best
from clinicalnotebert.finetune.training import Context, Outcome, Settings
from clinicalnotebert.hub import resolve_pretrained
from clinicalnotebert.io import atomic_dir, flatten_metrics, write_text_atomic
from clinicalnotebert.utils.runtime import resolve_device
from clinicalnotebert.utils.training import TrainingSetup, build_logger

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


def grid_settings(ft) -> list[Settings]:
    """Every combination of ``finetune.grid_values`` (comma-separated, as a sweep override)."""
    values = [str(getattr(ft.grid_values, key)).split(",") for key in ("lr", "epochs", "batch_size")]
    return [
        checked_settings(*point, key="finetune.grid_values") for point in itertools.product(*values)
    ]


def prepare_demo_data(cfg) -> None:
    """Generate the demo data when ``finetune.path`` points into it (``data=demo``)."""
    if cfg.data.name != "demo":
        return
    if Path(cfg.finetune.path).resolve().is_relative_to(Path(cfg.data.root).resolve()):
        from clinicalnotebert.demo import ensure_demo_data

        ensure_demo_data(cfg.data)


class Tracker:
    """Training losses and final scores to the configured logger (numbers only, never text)."""

    def __init__(self, cfg):
        self.logger = build_logger(TrainingSetup.from_config(cfg))
        self.every = cfg.finetune.log_every_n_steps
        self.prefix = ""

    def on_step(self, what: str, step: int, loss: float) -> None:
        if self.logger and step % self.every == 0:
            self.logger.log_metrics({f"{self.prefix}{what}/train_loss": loss}, step=step)

    def log_scores(self, metrics: dict) -> None:
        if self.logger:
            flat = flatten_metrics(metrics, prefix=self.prefix)
            self.logger.log_metrics({k: v for k, v in flat.items() if isinstance(v, int | float)})

    def close(self) -> None:
        if self.logger:
            self.logger.finalize("success")


def save_outcome(outcome: Outcome, out_dir: Path, save_model: bool) -> None:
    """The trained heads under ``model/`` (atomic) and the test predictions as JSONL."""
    if save_model:
        with atomic_dir(out_dir / "model") as tmp:
            outcome.export(tmp)
    lines = "".join(json.dumps(row) + "\n" for row in outcome.predictions)
    write_text_atomic(out_dir / "test_predictions.jsonl", lines)


def run_single(task, ctx: Context, tracker: Tracker, out_dir: Path) -> dict:
    ft = ctx.ft
    settings = checked_settings(ft.lr, ft.epochs, ft.batch_size, key="finetune")
    outcome = task.fit(settings, ctx)
    tracker.log_scores(outcome.metrics)
    save_outcome(outcome, out_dir, ft.save_model)
    return {**settings.echo(), **outcome.metrics}


def run_grid(task, ctx: Context, tracker: Tracker, out_dir: Path) -> dict:
    """Every grid point in turn; the heads and predictions kept are those of the best on dev."""
    ft = ctx.ft
    key = f"dev.{ft.select_metric}"
    jobs, best, summary = [], None, {}
    for settings in grid_settings(ft):
        tracker.prefix = f"{settings.tag}/"
        outcome = task.fit(settings, ctx)
        tracker.log_scores(outcome.metrics)
        metrics = flatten_metrics({**settings.echo(), **outcome.metrics})
        require(key in metrics, f"finetune.select_metric: '{key}' is not among {sorted(metrics)}")
        jobs.append((settings.tag, metrics))
        summary[settings.tag] = {
            split: metrics[f"{split}.{ft.select_metric}"] for split in ("dev", "test")
        }
        if best is None or metrics[key] > best:
            best = metrics[key]
            save_outcome(outcome, out_dir, ft.save_model)
    return {**select_best(jobs, key, "finetune.grid"), "grid": summary}


def run(cfg) -> dict:
    ft = cfg.finetune
    if ft.select_from:
        key = f"dev.{ft.select_metric}"
        return select_best(
            read_jobs(ft.select_from), key, f"finetune.select_from '{ft.select_from}'"
        )
    cls = task_class(ft.task)
    prepare_demo_data(cfg)
    encoder = resolve_pretrained(cfg.encoder.path, "encoder.path")
    ctx = Context(ft, encoder, resolve_device("auto"), int(ft.seed))
    task = cls(ctx)  # reads and tokenizes the data once, for every grid point
    tracker = Tracker(cfg)
    runner = run_grid if ft.grid else run_single
    try:
        metrics = runner(
            task, replace(ctx, on_step=tracker.on_step), tracker, Path(cfg.paths.output_dir)
        )
    finally:
        tracker.close()
    return {**metrics, "data": task.data_stats()}
