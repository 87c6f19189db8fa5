"""What a person sees: one line per phase, our own progress bars, and a closing table.

Third-party chatter that a user cannot act on (warnings from inside Lightning or transformers,
their INFO lines, Hugging Face loading bars) is kept out of the terminal; Hydra's job logging
(``conf/hydra/default.yaml``) still writes all of it to the run's log file.
"""

from __future__ import annotations

import logging
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

OWN_LOGGER = "clinicalnotebert"
HYDRA_LOGGER = "HYDRA"  # Hydra's own lines (sweep launches): the user asked for those


class OwnRecords(logging.Filter):
    """Pass the project's records (and Hydra's sweep lines) and anyone's errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name == OWN_LOGGER or record.name.startswith(OWN_LOGGER + ".")
        return own or record.name == HYDRA_LOGGER or record.levelno >= logging.ERROR


def quiet_third_party() -> None:
    """Route Python warnings to logging (the log file, not the terminal) and switch off the
    Hugging Face libraries' own progress bars (loading weights, saving datasets)."""
    logging.captureWarnings(True)
    import datasets
    import huggingface_hub
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    huggingface_hub.utils.disable_progress_bars()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


def format_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4g}" if abs(value) < 1e5 else f"{value:,.0f}"


def summary_rows(metrics: dict[str, Any], patterns: list[str]) -> list[tuple[str, str]]:
    """The metrics whose keys match ``patterns`` (shell-style), in the patterns' order."""
    rows, seen = [], set()
    for pattern in patterns:
        for key, value in metrics.items():
            if key not in seen and fnmatch(key, pattern):
                seen.add(key)
                rows.append((key, format_value(value)))
    return rows


def artifacts(run_dir: Path) -> list[str]:
    """What the run left in its dir (folders with a slash), logs and Hydra's own files aside."""
    hidden = (".", "logs", "tensorboard", "wandb")
    entries = sorted(p for p in run_dir.iterdir() if not p.name.startswith(hidden))
    return [p.name + ("/" if p.is_dir() else "") for p in entries if p.suffix != ".log"]


def print_summary(
    task: str, metrics: dict[str, Any], run_dir: Path, patterns: list[str], console=None
) -> None:
    """The closing table of a run: its key scores, then where its artifacts are."""
    console = console or Console()
    rows = summary_rows(metrics, patterns)
    if rows:
        table = Table(title=f"{task}: results", title_justify="left", show_header=False)
        table.add_column("metric", style="bold")
        table.add_column("value", justify="right")
        for key, value in rows:
            table.add_row(key, value)
        console.print(table)
    listed = ", ".join(artifacts(run_dir)) if run_dir.is_dir() else ""
    # one unwrapped plain line: a path is copied from it, and may hold rich markup's brackets
    line = f"run dir: {run_dir}" + (f"  ({listed})" if listed else "")
    console.print(line, soft_wrap=True, markup=False, highlight=False)
