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
