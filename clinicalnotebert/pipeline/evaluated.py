"""The models an evaluation scores: zoo entries, folders or hub ids, or named dicts of checkpoints.

Each has a checkpoint per report column (``EVALUATED_COLUMNS``: the raw model for fine-tuning,
SimCSE encoders for STS, RAG and prediction in the paper's release). A checkpoint may be a local
folder, a hub id, a zoo id found under ``zoo.root``, or a ``{stage}`` reference to a run of this
pipeline (the demo evaluates the models it trains).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from clinicalnotebert.config import EVALUATED_COLUMNS, EvaluateConfig, ZooConfig
from clinicalnotebert.errors import UserError
from clinicalnotebert.hub import resolve_pretrained

STAGE_REFERENCE = re.compile(r"^\{\w+\}")
COLUMN_KEYS = {  # evaluate.<key> of a single encoder's column checkpoints
    "finetune": "finetune_model",
    "sts": "sts_encoder",
    "rag": "rag_encoder",
    "predict": "predict_encoder",
}


@dataclass(frozen=True)
class EvaluatedModel:
    name: str  # its report row; also its folder under the pipeline run dir
    checkpoints: dict[str, str | None]  # column -> checkpoint (None: the column is not scored)
    baseline: bool = False

    @property
    def folder(self) -> str:
        return re.sub(r"[^\w.+-]+", "_", self.name)


def default_name(reference: str) -> str:
    """A folder's name, or a hub id's name part (``org/name`` -> ``name``)."""
    return Path(str(reference).rstrip("/")).name


def from_zoo(name: str, zoo: ZooConfig) -> EvaluatedModel:
    entry = zoo.models[name]
    checkpoints = {column: in_zoo_root(getattr(entry, column), zoo) for column in EVALUATED_COLUMNS}
    return EvaluatedModel(name, checkpoints, entry.baseline)


def in_zoo_root(hub_id: str | None, zoo: ZooConfig) -> str | None:
    """The local copy ``<zoo.root>/<hub id>`` when there is one, else the hub id."""
    if hub_id is None or not zoo.root:
        return hub_id
    local = Path(str(zoo.root)).expanduser() / hub_id
    return str(local) if local.is_dir() else hub_id


def from_entry(entry, zoo: ZooConfig) -> EvaluatedModel:
    """One item of ``evaluate.models``."""
    if isinstance(entry, dict):
        unknown = set(entry) - {"name", "baseline", *EVALUATED_COLUMNS}
        if unknown or "name" not in entry:
            raise UserError(
                f"evaluate.models: a dict entry needs 'name' and takes "
                f"{', '.join(EVALUATED_COLUMNS)} (got {sorted(entry)})"
            )
        checkpoints = {column: entry.get(column) for column in EVALUATED_COLUMNS}
        return EvaluatedModel(str(entry["name"]), checkpoints, bool(entry.get("baseline")))
    text = str(entry)
    if text in zoo.models:
        return from_zoo(text, zoo)
    return EvaluatedModel(default_name(text), dict.fromkeys(EVALUATED_COLUMNS, text))


def evaluated_models(evaluate: EvaluateConfig, zoo: ZooConfig) -> list[EvaluatedModel]:
    """``evaluate.models``, or the one encoder of ``evaluate.<column>`` keys."""
    if evaluate.models:
        models = [from_entry(entry, zoo) for entry in evaluate.models]
    else:
        checkpoints = {c: getattr(evaluate, key) for c, key in COLUMN_KEYS.items()}
        given = [value for value in checkpoints.values() if value]
        if not given:
            raise UserError("nothing to evaluate: set encoder.path (or evaluate.models)")
        models = [EvaluatedModel(evaluate.name or default_name(given[0]), checkpoints)]
    names = [model.name for model in models]
    if len(set(names)) != len(names):
        raise UserError(f"evaluate.models: two models share a name ({names})")
    return models


def unusable_checkpoints(models: list[EvaluatedModel], zoo: ZooConfig) -> list[str]:
    """Why each checkpoint that cannot be used here cannot (a missing folder, a hub id with the
    hub out of reach and no local copy): checked before the first stage starts."""
    root = f"{zoo.root}/<hub id>" if zoo.root else "zoo.root=<dir>, as <dir>/<hub id>"
    remedy = f"put a local copy under {root}, or pass a folder"
    problems = []
    for model in models:
        for column, checkpoint in model.checkpoints.items():
            if checkpoint and not STAGE_REFERENCE.match(checkpoint):
                try:
                    resolve_pretrained(checkpoint, f"model '{model.name}' ({column})", remedy)
                except UserError as exc:
                    problems.append(str(exc))
    return problems
