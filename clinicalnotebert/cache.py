"""Cache keys shared by the stages that reuse work (RAG datastore, prediction encodings).

A key is a digest of everything the artifact depends on, so a changed input (a new NOTEEVENTS,
another encoder, other settings) builds a new artifact instead of reusing a stale one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

KEY_CHARS = 16


def digest(parts: dict) -> str:
    """A short stable digest of a JSON-able description."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_CHARS // 2).hexdigest()


def file_identity(path: Path) -> dict:
    """Path, size and modification time: a re-exported or edited file gets a new identity."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
