"""Find finished runs (a ``metrics.json`` beside ``.hydra/config.yaml``) and name their model.

A run's model is found by following ``encoder.path`` back through the runs that made it
(``sts`` <- ``simcse`` <- ``pretrain``): the root pretraining run's size and objective name the
model (``micro-mlm_ntp``); an encoder made elsewhere is named by its folder or hub id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from clinicalnotebert.errors import UserError

RUN_CONFIG = Path(".hydra") / "config.yaml"


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


def find_run_dirs(patterns) -> list[Path]:
    """Every finished run under the given dirs or globs (multirun and pipeline dirs included)."""
    roots = sorted({Path(p) for pattern in patterns for p in glob(str(pattern))})
    if not roots:
        raise UserError(f"report.runs: nothing matches {list(patterns)}")
    found = {
        m.parent for root in roots for m in [root / "metrics.json", *root.rglob("metrics.json")]
    }
    return sorted(d for d in found if (d / "metrics.json").is_file() and (d / RUN_CONFIG).is_file())


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


def lineage_root(config: DictConfig, seen: int = 0) -> tuple[DictConfig | None, str | None]:
    """Follow ``encoder.path`` / ``model.init_from`` back to the pretraining run (or the outside
    model) the encoder came from: ``(pretrain config or None, outside reference or None)``."""
    if config.task.name == "pretrain" or seen > 8:
        return config, None
    artifact = select(config, "encoder.path")
    parent = producing_run(artifact)
    if parent is None:
        return None, str(artifact) if artifact else None
    return lineage_root(run_config(parent), seen + 1)


def model_label(config: DictConfig) -> str:
    root, outside = lineage_root(config)
    if root is None:
        return Path(outside).name if outside and Path(outside).is_dir() else str(outside)
    label = f"{root.model.size}-{root.objective.name}"
    init_from = select(root, "model.init_from")
    return f"{label}-from-{Path(str(init_from)).name}" if init_from else label


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
    for run_dir in find_run_dirs(patterns):
        config = run_config(run_dir)
        metrics = json.loads((run_dir / "metrics.json").read_text())
        label = model_label(config)
        label = labels.get(label, labels.get(str(select(config, "encoder.path")), label))
        parameters = encoder_parameters(config, run_dir)
        runs.append(Run(run_dir, config, metrics, label, parameters, encoder_origin(config)))
    return runs
