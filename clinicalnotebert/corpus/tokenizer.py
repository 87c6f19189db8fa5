"""The tokenizer prepare measures and encodes with: the configured one, or WordPiece trained now on
the very notes prepare keeps (same filters, de-id cleanup and dedup). ``task=tokenizer`` trains
on the same texts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from clinicalnotebert.corpus.deid import clean_deid
from clinicalnotebert.corpus.prepare import NoteFilter, PrepareStats, kept_notes
from clinicalnotebert.models.tokenizer import load_tokenizer, save_tokenizer, train_wordpiece


@dataclass(frozen=True)
class TokenizerRef:
    resolved: str  # what workers load
    # what meta.json keeps: "../tokenizer" for one trained in this run, else the path or hub id
    recorded: str


def note_training_texts(sources, prep_cfg, excluded) -> Iterator[str]:
    """De-identified note texts that prepare would keep (same filters, dedup included)."""
    for note in kept_notes(sources, NoteFilter(prep_cfg, excluded), PrepareStats()):
        yield clean_deid(note.text)


def train_and_save(cfg, texts, out_dir: Path):
    tok_cfg = cfg.tokenizer
    limited = islice(texts, tok_cfg.max_training_lines)
    tokenizer = train_wordpiece(
        limited, tok_cfg.vocab_size, tok_cfg.min_frequency, tok_cfg.lowercase
    )
    save_tokenizer(tokenizer, out_dir / "tokenizer")
    return tokenizer


def tokenizer_for_run(cfg, out_dir: Path, sources, excluded) -> tuple[object, TokenizerRef]:
    """The configured tokenizer, or one trained now on the notes and saved in the run dir."""
    if cfg.tokenizer.path:
        path = str(cfg.tokenizer.path)
        local = Path(path).expanduser()
        ref = str(local.resolve()) if local.is_dir() else path
        return load_tokenizer(path), TokenizerRef(ref, ref)
    texts = note_training_texts(sources, cfg.prepare, excluded)
    tokenizer = train_and_save(cfg, texts, out_dir)
    return tokenizer, TokenizerRef(str((out_dir / "tokenizer").resolve()), "../tokenizer")
