"""One table for a sweep of evaluations: ``-m encoder.path=a,b,c`` with ``pipeline=evaluate``
runs one pipeline per encoder; when the sweep ends, this Hydra callback reports them together
into ``<sweep dir>/report/`` (the table, its CSV and plots), as a list in ``evaluate.models``
would in one run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from clinicalnotebert.errors import UserError


class SweepReport(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if config.task.name != "pipeline" or not config.pipeline.per_encoder:
            return
        from clinicalnotebert.pipeline.task import report_runs

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            report_runs(sweep_dir, sweep_dir / "report")
        except UserError as exc:
            print(f"error: sweep report: {' '.join(str(exc).split())}", file=sys.stderr)
            sys.exit(2)
