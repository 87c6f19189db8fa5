"""Cache keys: what a cached split, embedding matrix or index was built from.

A key is a digest of everything the artifact depends on, so a changed input (a new NOTEEVENTS,
another encoder, other chunk bands) builds a new artifact instead of reusing a stale one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

KEY_CHARS = 16


def digest(parts: dict) -> str:
    """A short stable digest of a JSON-able description."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_CHARS // 2).hexdigest()


def file_identity(path: Path) -> dict:
    """Path, size and modification time: a re-exported or edited file gets a new identity."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def model_fingerprint(model: torch.nn.Module, tokenizer) -> str:
    """A digest of the weights and the tokenizer: the same for a local dir and a hub id that hold
    the same model, different after any retraining."""
    hasher = hashlib.blake2b(digest_size=16)
    for name, tensor in sorted(model.state_dict().items()):
        hasher.update(name.encode("utf-8"))
        hasher.update(str(tensor.dtype).encode("utf-8"))
        raw = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
        hasher.update(raw.numpy().tobytes())
    hasher.update(tokenizer.backend_tokenizer.to_str().encode("utf-8"))
    return hasher.hexdigest()
