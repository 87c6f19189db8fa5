"""task=report: collect runs' metrics.json into the paper's table (Markdown, CSV, PNG plots)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import write_text_atomic
from clinicalnotebert.report.collect import load_runs
from clinicalnotebert.report.plots import per_task_bars, score_vs_parameters
from clinicalnotebert.report.table import markdown, results_table, shares_of_best, summary_lines


def table_csv(table: dict[str, dict]) -> str:
    keys = sorted({key for row in table.values() for key in row})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["model", *keys])
    for label, row in table.items():
        writer.writerow([label, *("" if row.get(k) is None else row[k] for k in keys)])
    return buffer.getvalue()


def runs_csv(runs) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["model", "task", "run", "metric", "value"])
    for run in runs:
        for key, value in sorted(run.metrics.items()):
            if isinstance(value, int | float) and not isinstance(value, bool):
                writer.writerow([run.label, run.task, str(run.path), key, value])
    return buffer.getvalue()


def run(cfg) -> dict:
    settings = cfg.report
    if not settings.runs:
        raise UserError("report.runs is empty: give run dirs, multirun dirs or globs to collect")
    out_dir = Path(cfg.paths.output_dir)
    # Runs that feed a column, plus pretraining runs (they name models and count parameters).
    tasks = {column.task for column in settings.columns.values()} | {"pretrain"}
    runs = [r for r in load_runs(settings.runs, dict(settings.labels)) if r.task in tasks]
    table = results_table(runs, settings.columns)
    shares = shares_of_best(table, settings.columns)
    text = markdown(table, settings.columns, shares)
    summary = summary_lines(table, settings.columns, shares)
    write_text_atomic(out_dir / "results.md", text + "\n" + "\n".join(summary) + "\n")
    write_text_atomic(out_dir / "results.csv", table_csv(table))
    write_text_atomic(out_dir / "runs.csv", runs_csv(runs))
    if settings.plots:
        score_vs_parameters(table, settings.columns, out_dir / "score_vs_params.png")
        per_task_bars(table, settings.columns, out_dir / "per_task.png")
    print(text)
    print("\n".join(summary))
    flat = {
        f"{label}.{k}": v for label, row in table.items() for k, v in row.items() if v is not None
    }
    return {"runs": len(runs), "models": len(table), "table": flat}
