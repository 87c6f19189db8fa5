"""References to pretrained artifacts: a local directory, or a Hugging Face hub id.

The network is only touched when the user names a hub id; a path that looks local but does not
exist is a user error, not a failed download.
"""

from __future__ import annotations

from pathlib import Path

from clinicalnotebert.errors import UserError


def resolve_pretrained(path_or_id: str | Path | None, key: str) -> str:
    """Return an existing local directory (absolute) or a hub id; ``key`` names the config key."""
    if path_or_id in (None, ""):
        raise UserError(f"{key} is not set (a local directory or a hub id)")
    text = str(path_or_id)
    local = Path(text).expanduser()
    if local.is_dir():
        return str(local.resolve())
    if local.exists():
        raise UserError(f"{key} '{text}' is a file; give the model's directory")
    looks_local = local.is_absolute() or text.startswith((".", "~")) or text.count("/") > 1
    if looks_local:
        raise UserError(f"{key} '{text}' does not exist")
    return text


def from_pretrained_quietly(model_class, reference: str, **kwargs):
    """``(model, loading_info)`` from ``model_class.from_pretrained`` without transformers' load
    table, which flags every expected difference (an MLM head left out, a new task head); the
    caller says in one line what matters."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return model_class.from_pretrained(reference, output_loading_info=True, **kwargs)
    finally:
        hf_logging.set_verbosity(verbosity)
