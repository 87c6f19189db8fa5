"""Small I/O helpers that keep the run-dir contract: nothing half-written looks complete."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from clinicalnotebert.errors import UserError

TEMP_PREFIXES = (".tmp-", ".old-")  # our temporary siblings: <prefix><name>-<writer pid>


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_debris(target: Path) -> int:
    """Remove the temporary siblings of ``target`` that a killed writer left behind (ours by
    their names, and only when the process that wrote them is gone); the number removed."""
    removed = 0
    for prefix in TEMP_PREFIXES:
        for path in target.parent.glob(f"{prefix}{target.name}-*"):
            pid = path.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not is_running(int(pid)):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed += 1
    return removed


def temp_sibling(target: Path, prefix: str = ".tmp-") -> Path:
    """Where this process writes ``target`` before renaming it into place."""
    return target.parent / f"{prefix}{target.name}-{os.getpid()}"


@contextlib.contextmanager
def exclusive(target: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock for ``target`` (``<parent>/.<name>.lock``) between processes that
    share it: multirun jobs, pipeline lanes and DDP ranks building one cache entry or dataset."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling directory that replaces ``target`` only on success.

    A run killed inside the block leaves a ``.tmp-*`` sibling, never a ``target`` that loads as
    complete; the next write of the same target removes it.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_debris(target)
    tmp = temp_sibling(target)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # The old target moves aside in one rename, so no kill leaves it half deleted in place.
    old = temp_sibling(target, ".old-")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_debris(path)
    tmp = temp_sibling(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


# What a byte that is not UTF-8 decodes to with errors="surrogateescape" (U+DC80-U+DCFF); valid
# UTF-8 never decodes to these lone surrogates.
_BAD_BYTE = re.compile("[\udc80-\udcff]")


def text_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file (line endings kept); bytes that are not
    UTF-8 are a user error naming the file and the line and column of the first one, not a
    traceback.

    Lines are decoded one by one: a strict decoder fails on the whole read-ahead buffer, long
    before the line that holds the bad byte is reached.
    """
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            bad = _BAD_BYTE.search(line)
            if bad:
                raise UserError(
                    f"{path}: not valid UTF-8 (line {number}, column {bad.start() + 1})"
                )
            yield number, line


def read_text_utf8(path: str | os.PathLike) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not valid UTF-8 (byte {exc.start})") from None


def read_json(path: str | os.PathLike) -> Any:
    """A JSON file's value; one that is cut off or not JSON is a user error naming the file and
    where the parser stopped (never its contents), not a traceback."""
    try:
        return json.loads(read_text_utf8(path))
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}: not valid JSON, cut off or damaged ({exc.msg}: line {exc.lineno}, "
            f"column {exc.colno})"
        ) from None


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into one level with dotted keys (``{"a": {"b": 1}} -> {"a.b": 1}``)."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, prefix=f"{name}."))
        else:
            flat[name] = value.item() if hasattr(value, "item") else value
    return flat
