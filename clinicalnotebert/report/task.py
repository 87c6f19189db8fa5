"""task=report: collect runs' metrics.json into the paper's table (Markdown, CSV, PNG plots).

``results.md``: the table (``mean ± spread`` cells, baselines last), a footnote saying how the
numbers are combined, and the paper's sentence for every model; ``results.csv`` the same numbers
(``<column>.std`` beside each score); ``runs.csv`` every run's metrics; two PNG plots. With
``report.readme`` the table, sentences and plots go into that document's results block.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from clinicalnotebert.config import Config
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import write_text_atomic
from clinicalnotebert.report.collect import load_runs
from clinicalnotebert.report.plots import write_plots
from clinicalnotebert.report.readme import fill_readme
from clinicalnotebert.report.table import (
    footnote,
    markdown,
    results_table,
    shares_of_best,
    summary_lines,
)


def csv_keys(table: dict[str, dict], columns) -> list[str]:
    """The row keys in reading order: each column, its spread, then its sub-tasks'."""
    present = {key for row in table.values() for key in row}
    keys = ["parameters"]
    for name in columns:
        keys += [name, f"{name}.std"]
        keys += sorted(k for k in present if k.startswith(f"{name}.") and k != f"{name}.std")
    return keys + sorted(present - set(keys))


def table_csv(table: dict[str, dict], columns, shares, baselines=()) -> str:
    keys = csv_keys(table, columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["model", "baseline", *keys, "share_of_best", "share_of_parameters"])
    for label, row in table.items():
        share = [shares[label][n] for n in columns if n in shares[label]]
        writer.writerow(
            [
                label,
                int(label in baselines),
                *("" if row.get(k) is None else row[k] for k in keys),
                sum(share) / len(share) if share else "",
                shares[label].get("parameters", ""),
            ]
        )
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


def run(cfg: Config) -> dict:
    settings = cfg.report
    if not settings.runs:
        raise UserError("report.runs is empty: give run dirs, multirun dirs or globs to collect")
    out_dir = Path(cfg.paths.output_dir)
    baselines = list(settings.baseline)
    # Runs that feed a column, plus pretraining runs (they name models and count parameters).
    tasks = {column.task for column in settings.columns.values()} | {"pretrain"}
    runs = [r for r in load_runs(settings.runs, dict(settings.labels)) if r.task in tasks]
    if not any(run.task != "pretrain" for run in runs):  # a table without a score is no result
        raise UserError(
            f"report.runs: no finished evaluation run under {', '.join(map(str, settings.runs))} "
            "(a run is finished when its metrics.json is complete)"
        )
    table = results_table(runs, settings.columns, baselines)
    shares = shares_of_best(table, settings.columns)
    text = markdown(table, settings.columns, shares, baselines)
    summary = summary_lines(table, settings.columns, shares, baselines)
    results = text + "\n" + footnote(baselines) + "\n" + "".join(f"- {s}\n" for s in summary)
    write_text_atomic(out_dir / "results.md", results)
    write_text_atomic(
        out_dir / "results.csv", table_csv(table, settings.columns, shares, baselines)
    )
    write_text_atomic(out_dir / "runs.csv", runs_csv(runs))
    images = write_plots(table, settings.columns, out_dir, baselines) if settings.plots else {}
    if settings.readme:
        fill_readme(Path(settings.readme), results, settings.runs, images, settings.readme_assets)
    print(text)
    print("\n".join(summary))
    flat = {
        f"{label}.{k}": v for label, row in table.items() for k, v in row.items() if v is not None
    }
    return {"runs": len(runs), "models": len(table), "table": flat}
