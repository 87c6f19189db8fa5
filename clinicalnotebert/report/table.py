"""The results table: one row per model, one column per paper column (FT, STS, RAG, CP, Fusion)."""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import mean

from omegaconf import ListConfig

from clinicalnotebert.config import ReportColumn
from clinicalnotebert.report.collect import Run


def run_score(run: Run, column: ReportColumn) -> tuple[str, float] | None:
    """``(sub-task, scaled score)`` this run contributes to ``column``, or None."""
    if run.task != column.task:
        return None
    if not all(matches(run.setting(key), wanted) for key, wanted in column.where.items()):
        return None
    group = str(run.setting(column.group_by)) if column.group_by else column.task
    key = column.metric.get(group) if isinstance(column.metric, dict) else column.metric
    value = run.metrics.get(key) if key else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return group, float(value) * column.scale


def matches(value, wanted) -> bool:
    """``wanted`` is one value or a list of accepted values (compared as text)."""
    accepted = list(wanted) if isinstance(wanted, list | tuple | ListConfig) else [wanted]
    return str(value) in {str(w) for w in accepted}


def results_table(runs: list[Run], columns) -> dict[str, dict]:
    """``{label: {"parameters": n, "<column>": score, "<column>.<sub-task>": score, ...}}``.

    A sub-task's score is the mean over its runs (e.g. seeds, repeated evaluations); a
    column's score is the mean over its sub-tasks, as the paper's averaged columns.
    """
    scores: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    parameters: dict[str, int | None] = {}
    for run in runs:
        if run.parameters is not None or run.label not in parameters:
            parameters[run.label] = run.parameters or parameters.get(run.label)
        for name, column in columns.items():
            contribution = run_score(run, column)
            if contribution:
                scores[run.label][name][contribution[0]].append(contribution[1])
    table = {}
    for label in sorted(parameters):
        row: dict = {"parameters": parameters[label]}
        for name in columns:
            groups = scores[label].get(name, {})
            for group, values in sorted(groups.items()):
                row[f"{name}.{group}"] = mean(values)
            row[name] = mean(mean(v) for v in groups.values()) if groups else None
        table[label] = row
    return table


def shares_of_best(table: dict[str, dict], columns) -> dict[str, dict[str, float]]:
    """Each model's score as % of the best model's in each column, and its % of the parameters
    of the largest model ("small keeps 96% of the best with 61% of the parameters")."""
    shares: dict[str, dict[str, float]] = {label: {} for label in table}
    for name in [*columns, "parameters"]:
        values = {label: row[name] for label, row in table.items() if row.get(name) is not None}
        if not values:
            continue
        best = max(values.values())
        for label, value in values.items():
            if best > 0:
                shares[label][name] = 100.0 * value / best
    return shares


def markdown(table: dict[str, dict], columns, shares) -> str:
    names = list(columns)
    head = ["model", "params (M)", *names, "mean", "% of best (mean)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, row in table.items():
        present = [row[n] for n in names if row.get(n) is not None]
        share = [shares[label][n] for n in names if n in shares[label]]
        cells = [
            label,
            f"{row['parameters'] / 1e6:.1f}" if row.get("parameters") else "-",
            *(f"{row[n]:.1f}" if row.get(n) is not None else "-" for n in names),
            f"{mean(present):.1f}" if present else "-",
            f"{mean(share):.0f}%" if share else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summary_lines(table: dict[str, dict], columns, shares) -> list[str]:
    """One sentence per model: its mean share of the best score and its share of parameters."""
    lines = []
    for label in table:
        share = [shares[label][n] for n in columns if n in shares[label]]
        if share and "parameters" in shares[label]:
            lines.append(
                f"{label} keeps {mean(share):.0f}% of the best scores with "
                f"{shares[label]['parameters']:.0f}% of the parameters."
            )
    return lines
