"""PNG plots of the results table: grouped bars per column with their spread, and score against
encoder parameters on a log axis. ``*_figure`` builds the figure (tests inspect it), ``save``
writes it. Rows are ``results_table``'s (``<column>`` score, ``<column>.std`` spread)."""

from __future__ import annotations

import math
from pathlib import Path

from clinicalnotebert.report.table import display

BARS_FILE = "scores_by_column.png"
SCATTER_FILE = "score_vs_params.png"
MARKERS = "osD^vP*X"  # one per model, with its colour


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
    """Score against encoder parameters (millions, log x axis), one panel per column: a model is
    one colour and marker in every panel (a legend, not labels that pile up where models share a
    size), with error bars from the spread."""
    rows = {label: row for label, row in table.items() if row.get("parameters")}
    names = [n for n in columns if any(row.get(n) is not None for row in rows.values())]
    if not names:
        return None
    plt = _pyplot()
    from matplotlib.ticker import NullFormatter

    sizes = sorted({row["parameters"] / 1e6 for row in rows.values()})
    fig, axes = plt.subplots(
        1, len(names), figsize=(2.6 * len(names) + 2, 3.2), sharex=True, squeeze=False
    )
    for ax, name in zip(axes[0], names, strict=True):
        for i, (label, row) in enumerate(rows.items()):
            if row.get(name) is None:
                continue
            ax.errorbar(
                [row["parameters"] / 1e6], [row[name]], yerr=[_spread(row, name)], capsize=3,
                fmt=MARKERS[i % len(MARKERS)], color=f"C{i}", label=display(label, baselines),
            )  # fmt: skip
        ax.set_title(name)
        ax.set_xscale("log")
        # ticks at the models' sizes (the paper's 110M, 67M, 14.5M), not at powers of ten
        ax.set_xticks(sizes, [f"{size:.3g}" for size in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.margins(x=0.3)
    axes[0][0].set_ylabel("score")
    fig.supxlabel("encoder parameters (millions, log scale)", fontsize=9)
    handles = {}  # label -> handle, each model once, in the table's order
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), fontsize=7, loc="upper left",
               bbox_to_anchor=(1.0, 0.95))  # fmt: skip
    fig.tight_layout()
    return fig


def save(fig, target: Path) -> Path | None:
    """Write ``fig`` as a PNG and free it; None: nothing to plot, and no stale PNG is left."""
    if fig is None:
        target.unlink(missing_ok=True)
        return None
    plt = _pyplot()
    fig.savefig(target, dpi=120, bbox_inches="tight")  # keeps a legend placed outside the axes
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
