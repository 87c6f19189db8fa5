"""Resuming a run dir safely: every checkpoint records the settings it cannot be resumed without
(architecture, objective, tokenizer, corpus variant), checked before anything is loaded.

Lightning writes checkpoints through a temporary file and a rename (``fsspec`` transactions), so
a kill during a save leaves the previous file intact; a ``last.ckpt`` damaged in another way
falls back to the newest intact step checkpoint, when ``keep_step_checkpoints`` kept some.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from clinicalnotebert.cache import digest
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import flatten_metrics
from clinicalnotebert.models.bert import ARCHITECTURE_KEYS

log = logging.getLogger(__name__)

RECORD_KEY = "clinicalnotebert_settings"  # beside Lightning's own keys in every checkpoint
LAST_CHECKPOINT = "last.ckpt"


class UnreadableCheckpoint(Exception):
    """Not a checkpoint torch can read (cut off, another kind of file)."""


def settings_record(model_config, objective: str, variant: str, tokenizer) -> dict[str, Any]:
    """What a checkpoint must share with the run that resumes it."""
    architecture = {key: getattr(model_config, key) for key in ARCHITECTURE_KEYS}
    return {
        "architecture": {**architecture, "vocab_size": model_config.vocab_size},
        "objective": objective,
        "variant": variant,
        "tokenizer": digest({"vocab": tokenizer.get_vocab()}),
    }


def read_record(path: Path) -> dict[str, Any] | None:
    """The settings record of a checkpoint (None for one that has none)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # torch raises several kinds for a cut-off or foreign file
        raise UnreadableCheckpoint(" ".join(str(exc).split())[:160]) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise UnreadableCheckpoint("not a Lightning checkpoint (no state_dict)")
    return checkpoint.get(RECORD_KEY)


def differences(saved: dict[str, Any] | None, expected: dict[str, Any]) -> list[str]:
    """What differs, as ``key: <checkpoint's> there, <this run's> now``."""
    if saved is None:
        return ["it records no settings (made by another version)"]
    flat_saved, flat_expected = flatten_metrics(saved), flatten_metrics(expected)
    return [
        f"{key}: {flat_saved.get(key)} there, {value} now"
        if key != "tokenizer"
        else "tokenizer: another vocabulary"
        for key, value in flat_expected.items()
        if flat_saved.get(key) != value
    ]


def candidates(setting: str, out_dir: Path) -> list[Path]:
    """``last``: the run dir's ``last.ckpt``, then its step checkpoints, newest first."""
    if setting != "last":
        path = Path(setting).expanduser()
        if not path.is_file():
            raise UserError(f"pretrain.ckpt_path '{setting}' does not exist")
        return [path]
    folder = out_dir / "checkpoints"
    last = folder / LAST_CHECKPOINT
    steps = sorted(folder.glob("step-*.ckpt"), reverse=True)
    return ([last] if last.is_file() else []) + steps


def resume_checkpoint(setting: str | None, out_dir: Path, expected: dict[str, Any]) -> str | None:
    """The checkpoint to resume from (None: start afresh), checked against ``expected``.

    ``null``: start afresh; ``last``: the run dir's ``last.ckpt`` when it exists (a rerun
    continues), or its newest intact step checkpoint; anything else: that checkpoint file.
    """
    if not setting:
        return None
    ways_out = "start afresh with pretrain.ckpt_path=null, or use a new run dir"
    tried = candidates(setting, out_dir)
    for number, path in enumerate(tried):
        try:
            saved = read_record(path)
        except UnreadableCheckpoint as exc:
            if setting != "last":
                raise UserError(
                    f"pretrain.ckpt_path '{path}' is not a readable checkpoint ({exc})"
                ) from None
            log.warning("%s is damaged (%s); trying an older checkpoint", path, exc)
            continue
        found = differences(saved, expected)
        if found:
            raise UserError(
                f"{out_dir}: checkpoint {path.name} was made with other settings "
                f"({'; '.join(found)}): {ways_out}"
            )
        if number:
            log.warning("resuming from %s instead of the damaged %s", path.name, LAST_CHECKPOINT)
        return str(path)
    if tried:
        raise UserError(
            f"{out_dir}: {LAST_CHECKPOINT} is damaged and no intact step checkpoint is left "
            f"(pretrain.keep_step_checkpoints=true keeps some): {ways_out}"
        )
    return None
