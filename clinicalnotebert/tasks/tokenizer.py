"""task=tokenizer: train an uncased WordPiece tokenizer on the notes (or a prepared corpus).

``task=prepare`` uses the same code when ``tokenizer.path`` is not set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from clinicalnotebert.corpus.deid import clean_deid
from clinicalnotebert.corpus.prepare import NoteFilter, PrepareStats, kept_notes, read_subject_list
from clinicalnotebert.corpus.readers import note_sources
from clinicalnotebert.tokenizer import load_tokenizer, save_tokenizer, train_wordpiece


@dataclass(frozen=True)
class TokenizerRef:
    resolved: str  # what workers load
    # what meta.json keeps: "../tokenizer" for one trained in this run, else the path or hub id
    recorded: str


def resolve_data(cfg) -> None:
    """Generate the demo data on first use (``data=demo``)."""
    if cfg.data.name == "demo":
        from clinicalnotebert.corpus.synthetic import ensure_demo

        ensure_demo(cfg.data)


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


def corpus_training_texts(corpus_path) -> Iterator[str]:
    from clinicalnotebert.corpus.store import load_variant

    dataset = load_variant(corpus_path, "sentence")
    for start in range(0, len(dataset), 1000):
        yield from dataset[start : start + 1000]["text"]


def run(cfg) -> dict:
    out_dir = Path(cfg.paths.output_dir)
    if cfg.corpus.path:
        texts = corpus_training_texts(cfg.corpus.path)
        source = "corpus"
    else:
        resolve_data(cfg)
        sources = note_sources(cfg.data)
        texts = note_training_texts(
            sources, cfg.prepare, read_subject_list(cfg.prepare.exclude_subjects)
        )
        source = "notes"
    tokenizer = train_and_save(cfg, texts, out_dir)
    return {"vocab_size": len(tokenizer), "source": source}
