"""Reading a prepared corpus: ``<corpus>/meta.json`` and ``<corpus>/<variant>/<note_type>/``."""

from __future__ import annotations

from pathlib import Path

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import read_json

META_FILE = "meta.json"


def corpus_dir(path: str | Path | None) -> Path:
    """Validate ``corpus.path``: a complete corpus dir has its ``meta.json`` (written last)."""
    if not path:
        raise UserError("corpus.path is not set (point it at <prepare run>/corpus)")
    root = Path(str(path)).expanduser()
    if root.exists() and not root.is_dir():
        raise UserError(f"corpus.path '{root}' is a file; give the prepared corpus's directory")
    if not root.is_dir():
        raise UserError(f"corpus.path '{root}' does not exist")
    if not (root / META_FILE).is_file():
        raise UserError(f"corpus.path '{root}' has no {META_FILE}: not a complete prepared corpus")
    return root


def load_meta(path: str | Path) -> dict:
    root = corpus_dir(path)
    meta = read_json(root / META_FILE)
    if not isinstance(meta, dict) or not {"variants", "tokenizer"} <= meta.keys():
        raise UserError(f"corpus.path '{root}': its {META_FILE} is not a prepared corpus's")
    return meta


def corpus_tokenizer(path: str | Path) -> str:
    """The tokenizer a corpus was measured with: a dir relative to the corpus, or a hub id."""
    root = corpus_dir(path)
    recorded = load_meta(root)["tokenizer"]
    relative = root / recorded
    return str(relative.resolve()) if relative.is_dir() else recorded


def load_variant(path: str | Path, variant: str, note_types: list[str] | None = None):
    """All note types of one variant as one memory-mapped dataset (types concatenated in order)."""
    from datasets import concatenate_datasets

    root = corpus_dir(path)
    meta = load_meta(root)
    if variant not in meta["variants"]:
        raise UserError(
            f"corpus '{root}' has no '{variant}' variant (has {list(meta['variants'])})"
        )
    parts = [load_part(root, variant, t) for t in note_types or meta["note_types"]]
    return concatenate_datasets(parts)


def load_part(root: Path, variant: str, note_type: str):
    """One note type of a variant, memory-mapped; a part that is missing, cut off or damaged
    (Arrow, ``state.json``, ``dataset_info.json``) is a user error naming it, not a traceback."""
    from datasets import load_from_disk
    from pyarrow import ArrowException

    part = root / variant / note_type
    try:
        return load_from_disk(str(part))
    except (OSError, ValueError, ArrowException) as exc:  # FileNotFoundError, ArrowInvalid, JSON
        reason = " ".join(str(exc).split())[:160]
        raise UserError(
            f"corpus '{root}': cannot read {variant}/{note_type} ({reason}); the corpus is "
            "incomplete or damaged: prepare it again"
        ) from None
