"""PNG plots of the results table: score against parameter count, and per-task bars."""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    return plt


def score_vs_parameters(table: dict[str, dict], columns, target: Path) -> Path | None:
    rows = {label: row for label, row in table.items() if row.get("parameters")}
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in columns:
        points = [
            (row["parameters"] / 1e6, row[name], label)
            for label, row in rows.items()
            if row.get(name) is not None
        ]
        if points:
            ax.scatter([p[0] for p in points], [p[1] for p in points], label=name)
            for x, y, label in points:
                ax.annotate(label, (x, y), fontsize=7, alpha=0.7)
    ax.set_xscale("log")
    ax.set_xlabel("encoder parameters (millions, log scale)")
    ax.set_ylabel("score")
    ax.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=120)
    plt.close(fig)
    return target


def per_task_bars(table: dict[str, dict], columns, target: Path) -> Path | None:
    names = [n for n in columns if any(row.get(n) is not None for row in table.values())]
    if not names:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2, 4))
    width = 0.8 / max(len(table), 1)
    for i, (label, row) in enumerate(table.items()):
        xs = [j + i * width for j in range(len(names))]
        ax.bar(xs, [row.get(n) or 0.0 for n in names], width=width, label=label)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], names)
    ax.set_ylabel("score")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(target, dpi=120)
    plt.close(fig)
    return target
