"""The results table: one row per model, one column per paper column (FT, STS, RAG, CP, Fusion).

Each cell is ``mean ± spread``. How the spread is found and combined (``SPREAD_RULE``, also the
footnote of ``results.md``); every standard deviation is NumPy's (ddof 0), as the prediction
stage's ``<metric>.std`` over its seeds (docs/predict.md, docs/reference.md §6.7):

- a run: a prediction run's ``<metric>.std`` beside its ``<metric>.mean`` (or, without it, the
  std of its ``<metric>.seed_<s>`` values); a single-number run (FT, STS, RAG) has none;
- a sub-task (e.g. CP's mortality): the mean of its runs' means; with several runs the spread
  pools them, ``sqrt(mean of the runs' variances + variance of the runs' means)``, which is the
  std over all the seeds when every run has as many, and the std over the runs when they are
  single numbers (repeated runs, a sweep); one run keeps its own spread;
- a column: the mean of its sub-tasks' means (the paper's averaged columns) and the root mean
  square of its sub-tasks' spreads, i.e. the typical sub-task spread (not the smaller standard
  error of the average); shown only where every sub-task has a spread.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from statistics import mean, pvariance

from omegaconf import ListConfig

from clinicalnotebert.config import ReportColumn
from clinicalnotebert.report.collect import Run

log = logging.getLogger(__name__)
BASELINE_MARK = " (baseline)"
SPREAD_RULE = (
    "Cells are mean ± spread; the spread is a standard deviation (NumPy's, ddof 0, as the "
    "prediction runs write it): over a prediction run's seeds, pooled over the runs of a "
    "sub-task when it has several (for single-number runs: the std over the runs). A column is "
    "the mean of its sub-tasks' means; its spread is the root mean square of their spreads, "
    "shown only where every sub-task has one. No ±: a single run without seeds."
)

Score = tuple[float, float | None]  # (mean, spread or None), already scaled


def is_number(value) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def seed_spread(metrics: dict, key: str) -> float | None:
    """The std over seeds of the metric whose mean is ``key`` (``test.auroc.mean``): the run's
    ``test.auroc.std``, else NumPy's std (ddof 0) of its ``test.auroc.seed_<s>`` values."""
    if not key.endswith(".mean"):
        return None
    base = key[: -len(".mean")]
    std = metrics.get(f"{base}.std")
    if is_number(std):
        return float(std)
    seeds = [float(v) for k, v in metrics.items() if k.startswith(f"{base}.seed_") and is_number(v)]
    return math.sqrt(pvariance(seeds)) if len(seeds) > 1 else None


def run_score(run: Run, column: ReportColumn) -> tuple[str, Score] | None:
    """``(sub-task, (scaled score, scaled spread or None))`` this run gives ``column``, or None."""
    if run.task != column.task:
        return None
    if not all(matches(run.setting(key), wanted) for key, wanted in column.where.items()):
        return None
    group = str(run.setting(column.group_by)) if column.group_by else column.task
    key = column.metric.get(group) if isinstance(column.metric, dict) else column.metric
    value = run.metrics.get(key) if key else None
    if not is_number(value):
        return None
    spread = seed_spread(run.metrics, key)
    scale = float(column.scale)
    return group, (float(value) * scale, None if spread is None else spread * abs(scale))


def matches(value, wanted) -> bool:
    """``wanted`` is one value or a list of accepted values (compared as text)."""
    accepted = list(wanted) if isinstance(wanted, list | tuple | ListConfig) else [wanted]
    return str(value) in {str(w) for w in accepted}


def combine_runs(scores: list[Score]) -> Score:
    """A sub-task's score over its runs (the rule in the module docstring)."""
    if len(scores) == 1:
        return scores[0]
    means = [m for m, _ in scores]
    within = mean((s or 0.0) ** 2 for _, s in scores)
    return mean(means), math.sqrt(within + pvariance(means))


def combine_subtasks(scores: list[Score]) -> Score:
    """A column's score: the mean of the means, the root mean square of the spreads."""
    spreads = [s for _, s in scores]
    rms = None if None in spreads else math.sqrt(mean(s**2 for s in spreads))
    return mean(m for m, _ in scores), rms


def results_table(runs: list[Run], columns, baselines=()) -> dict[str, dict]:
    """``{label: {"parameters": n, "<column>": score, "<column>.std": spread,
    "<column>.<sub-task>": score, "<column>.<sub-task>.std": spread, ...}}`` (spread None where
    there is none), for the models with a score: others first by label, then ``baselines``."""
    scores: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    parameters: dict[str, int | None] = {}
    for run in runs:
        if run.parameters is not None or run.label not in parameters:
            parameters[run.label] = run.parameters or parameters.get(run.label)
        for name, column in columns.items():
            contribution = run_score(run, column)
            if contribution:
                scores[run.label][name][contribution[0]].append(contribution[1])
    scored = [label for label in parameters if scores.get(label)]
    if len(scored) < len(parameters):  # e.g. the pretraining run of an encoder.name'd model
        log.info("no scores, not in the table: %s", sorted(set(parameters) - set(scored)))
    unknown = [b for b in baselines if b not in scored]
    if unknown:
        log.warning("report.baseline: no scored model is called %s", unknown)
    order = sorted(label for label in scored if label not in baselines)
    order += [label for label in dict.fromkeys(baselines) if label in scored]
    table = {}
    for label in order:
        row: dict = {"parameters": parameters[label]}
        for name in columns:
            groups = {g: combine_runs(v) for g, v in sorted(scores[label].get(name, {}).items())}
            row[name], row[f"{name}.std"] = (
                combine_subtasks(list(groups.values())) if groups else (None, None)
            )
            for group, (score, spread) in groups.items():
                row[f"{name}.{group}"], row[f"{name}.{group}.std"] = score, spread
        table[label] = row
    return table


def display(label: str, baselines) -> str:
    return label + BASELINE_MARK if label in baselines else label


def shares_of_best(table: dict[str, dict], columns) -> dict[str, dict[str, float]]:
    """Each model's score as % of the best model's in each column (baselines count), and its %
    of the parameters of the largest model ("small keeps 96% of the best with 61% of the
    parameters"). A column whose best score is not positive gives no shares."""
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


def cell(score: float | None, spread: float | None) -> str:
    if score is None:
        return "-"
    return f"{score:.1f}" if spread is None else f"{score:.1f} ± {spread:.2f}"


def markdown(table: dict[str, dict], columns, shares, baselines=()) -> str:
    names = list(columns)
    head = ["model", "params (M)", *names, "mean", "% of best (mean)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, row in table.items():
        present = [row[n] for n in names if row.get(n) is not None]
        share = [shares[label][n] for n in names if n in shares[label]]
        cells = [
            display(label, baselines),
            f"{row['parameters'] / 1e6:.3g}" if row.get("parameters") else "-",
            *(cell(row.get(n), row.get(f"{n}.std")) for n in names),
            f"{mean(present):.1f}" if present else "-",
            f"{mean(share):.0f}%" if share else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def footnote(baselines=()) -> str:
    """What the table's numbers are (under it in ``results.md``)."""
    text = (
        f"{SPREAD_RULE} params: encoder parameters in millions; mean: the mean of the row's "
        "columns; % of best: the mean over columns of the score as % of the column's best."
    )
    if baselines:
        text += " (baseline): `report.baseline`, counted like the other rows."
    return text + "\n"


def summary_lines(table: dict[str, dict], columns, shares, baselines=()) -> list[str]:
    """The paper's sentence for every model (baselines too): its mean share of the best score
    over columns and, where its parameters are known, its share of the largest model's."""
    lines = []
    for label in table:
        share = [shares[label][n] for n in columns if n in shares[label]]
        if not share:
            continue
        sentence = f"{display(label, baselines)} keeps {mean(share):.0f}% of the best score"
        if "parameters" in shares[label]:
            sentence += (
                f" with {shares[label]['parameters']:.0f}% of the parameters of the largest model"
            )
        lines.append(sentence + ".")
    return lines
