"""Cached artifacts of the stages that reuse work (RAG split, embeddings, index and demo LM;
prediction note vectors and hourly signals): key -> dir -> load, or build and write atomically.

A key is a digest of everything the artifact depends on, so a changed input (a new NOTEEVENTS,
another encoder, other settings) builds a new artifact instead of reusing a stale one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from clinicalnotebert.io import atomic_dir, exclusive, write_json_atomic

log = logging.getLogger(__name__)
T = TypeVar("T")
KEY_CHARS = 16
KEY_FILE = "key.json"  # written last: an entry without it is incomplete and never loaded


def digest(parts: dict) -> str:
    """A short stable digest of a JSON-able description."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_CHARS // 2).hexdigest()


def file_identity(path: Path) -> dict:
    """Path, size and modification time: a re-exported or edited file gets a new identity."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def encoder_fingerprint(path_or_id) -> str:
    """The encoder part of a key: a digest of a local encoder's files (their contents, so a copy
    of the same model matches and any retraining does not), or the hub id itself."""
    path = Path(str(path_or_id)).expanduser()
    if not path.is_dir():
        return f"hub:{path_or_id}"
    hasher = hashlib.blake2b(digest_size=KEY_CHARS // 2)
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        hasher.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(block)
    return hasher.hexdigest()


def entry_dir(root: str | Path, kind: str, parts: dict) -> Path:
    """``<root>/<kind>-<digest of parts>``: where the artifact described by ``parts`` lives."""
    return Path(str(root)).expanduser() / f"{kind}-{digest(parts)}"


def is_complete(directory: Path) -> bool:
    return (directory / KEY_FILE).is_file()


def load_or_build(
    directory: Path,
    parts: dict,
    build: Callable[[Path], None],
    load: Callable[[Path], T],
    enabled: bool = True,
) -> tuple[T, bool]:
    """``(artifact, reused)``: ``load(directory)`` when a complete entry is there; else ``build``
    into a temporary sibling that replaces ``directory`` only when it is whole. With the cache
    off (``enabled=False``) the artifact is built in a temporary dir that is removed afterwards,
    so ``load`` must read it into memory."""
    if not enabled:
        with tempfile.TemporaryDirectory(prefix="clinicalnotebert-") as tmp:
            build(Path(tmp))
            return load(Path(tmp)), False

    def reuse() -> tuple[T, bool]:
        log.info("reusing the cached %s", directory)
        return load(directory), True

    if is_complete(directory):  # reading takes no lock: a shared cache may be read-only
        return reuse()
    with exclusive(directory):  # a second process waits for the first one's entry, not builds it
        if is_complete(directory):
            return reuse()
        with atomic_dir(directory) as tmp:
            build(tmp)
            write_json_atomic(tmp / KEY_FILE, parts)
    return load(directory), False
