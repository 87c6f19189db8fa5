"""Find finished runs (a ``metrics.json`` beside ``.hydra/config.yaml``) and name their model.

A run's model is its ``encoder.name`` when set (an evaluation pipeline for a named encoder sets
it on its stages). Otherwise it is found by following ``encoder.path`` back through the runs
that made it (``sts`` <- ``simcse`` <- ``pretrain``): the root pretraining run's size and
objective name the model (``micro-mlm_ntp``); an encoder made elsewhere is named by its folder or
hub id. ``report.labels`` renames either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from clinicalnotebert.errors import UserError
from clinicalnotebert.sweeps import RUN_CONFIG, Job, read_jobs

log = logging.getLogger(__name__)
MAX_LINEAGE_DEPTH = 16  # links followed back from a run to its model's origin (cycle guard)


@dataclass(frozen=True)
class Run:
    path: Path
    config: DictConfig
    metrics: dict
    label: str
    parameters: int | None
    encoder_from: str  # the task of the run that made its encoder (simcse, pretrain), or external

    @property
    def task(self) -> str:
        return self.config.task.name

    def setting(self, key: str):
        """A config value; ``encoder_from`` is where the run's encoder came from."""
        return self.encoder_from if key == "encoder_from" else select(self.config, key)


def select(config: DictConfig, key: str):
    """A config value; ``None`` where it is unset or only resolvable inside Hydra (run dirs)."""
    return OmegaConf.select(config, key, throw_on_resolution_failure=False)


def finished_jobs(patterns) -> list[Job]:
    """Every finished run under the given dirs or globs (multirun and pipeline dirs included)."""
    roots = sorted({Path(p) for pattern in patterns for p in glob(str(pattern))})
    if not roots:
        raise UserError(f"report.runs: nothing matches {list(patterns)}")
    jobs = {job.path: job for root in roots for job in read_jobs(root, "report.runs")}
    return [job for _, job in sorted(jobs.items()) if job.metrics is not None]


def run_config(run_dir: Path) -> DictConfig | None:
    path = run_dir / RUN_CONFIG
    return OmegaConf.load(path) if path.is_file() else None


def producing_run(artifact: str | None) -> Path | None:
    """The run dir that wrote ``<run>/model`` or ``<run>/encoder`` (None for outside models)."""
    if not artifact:
        return None
    folder = Path(str(artifact)).expanduser()
    run_dir = folder.parent
    return run_dir if folder.is_dir() and (run_dir / RUN_CONFIG).is_file() else None


def lineage_root(config: DictConfig) -> tuple[DictConfig | None, str | None]:
    """Follow ``encoder.path`` back to the pretraining run (or the outside model) the encoder
    came from: ``(pretrain config or None, outside reference or None)``."""
    for _ in range(MAX_LINEAGE_DEPTH):
        if config.task.name == "pretrain":
            break
        artifact = select(config, "encoder.path")
        parent = producing_run(artifact)
        if parent is None:
            return None, str(artifact) if artifact else None
        config = run_config(parent)
    return config, None


def first_pretraining(config: DictConfig) -> DictConfig:
    """Follow ``model.init_from`` through our own pretraining runs (a curriculum such as
    sentence -> segment -> note) back to the first one."""
    for _ in range(MAX_LINEAGE_DEPTH):
        parent = producing_run(select(config, "model.init_from"))
        parent_config = run_config(parent) if parent else None
        if parent_config is None or parent_config.task.name != "pretrain":
            break
        config = parent_config
    return config


def model_label(config: DictConfig) -> str:
    """``size-objective`` of the final pretraining run, plus ``-from-<name>`` when the first run
    of its curriculum continued an outside checkpoint (e.g. PubMedBERT)."""
    root, outside = lineage_root(config)
    if root is None:
        return Path(outside).name if outside and Path(outside).is_dir() else str(outside)
    label = f"{root.model.size}-{root.objective.name}"
    init_from = select(first_pretraining(root), "model.init_from")
    return f"{label}-from-{Path(str(init_from)).name}" if init_from else label


def run_label(config: DictConfig, labels: dict[str, str]) -> str:
    """The row a run counts for: ``encoder.name``, else the lineage label; renamed by
    ``labels`` (keyed by that label or by the run's ``encoder.path``)."""
    name = select(config, "encoder.name")
    label = str(name) if name not in (None, "") else model_label(config)
    return labels.get(label, labels.get(str(select(config, "encoder.path")), label))


def encoder_parameters(config: DictConfig, run_dir: Path) -> int | None:
    """Parameters of the encoder (embeddings + transformer, no task head), from its config."""
    artifact = (
        run_dir / "model" if config.task.name == "pretrain" else select(config, "encoder.path")
    )
    folder = Path(str(artifact)) if artifact else None
    if folder is None or not (folder / "config.json").is_file():
        return None
    import torch
    from transformers import AutoConfig, AutoModel

    with torch.device("meta"):
        model = AutoModel.from_config(AutoConfig.from_pretrained(str(folder)))
    return sum(p.numel() for p in model.parameters())


def encoder_origin(config: DictConfig) -> str:
    parent = producing_run(select(config, "encoder.path"))
    return run_config(parent).task.name if parent else "external"


def load_runs(patterns, labels: dict[str, str]) -> list[Run]:
    runs = []
    for job in finished_jobs(patterns):
        run_dir, config, metrics = job.path, run_config(job.path), job.metrics
        if select(config, "task.name") is None:
            log.warning("skipped %s: not a clinicalnotebert run (no task.name)", run_dir)
            continue
        label = run_label(config, labels)
        parameters = encoder_parameters(config, run_dir)
        runs.append(Run(run_dir, config, metrics, label, parameters, encoder_origin(config)))
    return runs
