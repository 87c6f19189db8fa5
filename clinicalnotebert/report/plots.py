"""PNG plots of the results table: grouped bars per column with their spread, and score against
encoder parameters on a log axis. ``*_figure`` builds the figure (tests inspect it), ``save``
writes it. Rows are ``results_table``'s (``<column>`` score, ``<column>.std`` spread)."""

from __future__ import annotations

import math
from pathlib import Path

from clinicalnotebert.report.table import display

BARS_FILE = "scores_by_column.png"
SCATTER_FILE = "score_vs_params.png"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    return plt


def _spread(row: dict, name: str) -> float:
    """The error bar: the spread, or NaN (no bar drawn) where there is none."""
    spread = row.get(f"{name}.std")
    return math.nan if spread is None else spread


def bars_figure(table: dict[str, dict], columns, baselines=()):
    """One group per column, one bar per model (baselines hatched), error bars from the spread."""
    names = [n for n in columns if any(row.get(n) is not None for row in table.values())]
    if not names:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(names) * max(len(table), 2) / 2 + 3, 4))
    width = 0.8 / max(len(table), 1)
    for i, (label, row) in enumerate(table.items()):
        present = [(j, n) for j, n in enumerate(names) if row.get(n) is not None]
        ax.bar(
            [j + i * width for j, _ in present],
            [row[n] for _, n in present],
            width=width,
            yerr=[_spread(row, n) for _, n in present],
            capsize=3,
            hatch="//" if label in baselines else None,
            label=display(label, baselines),
        )
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], names)
    ax.set_ylabel("score (mean ± spread)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def scatter_figure(table: dict[str, dict], columns, baselines=()):
    """Score against encoder parameters (millions, log x axis): one series per column, each
    point labelled by its model, error bars from the spread."""
    rows = {label: row for label, row in table.items() if row.get("parameters")}
    series = {
        name: [(label, row) for label, row in rows.items() if row.get(name) is not None]
        for name in columns
    }
    series = {name: points for name, points in series.items() if points}
    if not series:
        return None
    plt = _pyplot()
    from matplotlib.ticker import NullFormatter

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, points in series.items():
        xs = [row["parameters"] / 1e6 for _, row in points]
        ys = [row[name] for _, row in points]
        yerr = [_spread(row, name) for _, row in points]
        ax.errorbar(xs, ys, yerr=yerr, fmt="o", capsize=3, label=name)
        for x, y, (label, _) in zip(xs, ys, points, strict=True):
            ax.annotate(
                display(label, baselines),
                (x, y),
                xytext=(5, 3),
                textcoords="offset points",
                fontsize=7,
                alpha=0.8,
            )
    ax.set_xscale("log")
    # ticks at the models' sizes (the paper's 110M, 67M, 14.5M), not at powers of ten
    sizes = sorted({row["parameters"] / 1e6 for row in rows.values()})
    ax.set_xticks(sizes, [f"{size:.3g}" for size in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("encoder parameters (millions, log scale)")
    ax.set_ylabel("score")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def save(fig, target: Path) -> Path | None:
    """Write ``fig`` as a PNG and free it; None: nothing to plot, and no stale PNG is left."""
    if fig is None:
        target.unlink(missing_ok=True)
        return None
    plt = _pyplot()
    fig.savefig(target, dpi=120)
    plt.close(fig)
    return target


def write_plots(table: dict[str, dict], columns, out_dir: Path, baselines=()) -> dict[str, Path]:
    """The plots written to ``out_dir``, by their alt text in the README."""
    plots = {
        "Scores per column (mean ± spread)": save(
            bars_figure(table, columns, baselines), out_dir / BARS_FILE
        ),
        "Score against encoder parameters (log scale)": save(
            scatter_figure(table, columns, baselines), out_dir / SCATTER_FILE
        ),
    }
    return {alt: path for alt, path in plots.items() if path is not None}
