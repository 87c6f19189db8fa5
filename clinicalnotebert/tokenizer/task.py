"""task=tokenizer: train an uncased WordPiece tokenizer on the notes (or a prepared corpus).

``task=prepare`` trains the same way when ``tokenizer.path`` is not set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from clinicalnotebert.config import Config
from clinicalnotebert.corpus.prepare import read_subject_list
from clinicalnotebert.corpus.readers import note_sources
from clinicalnotebert.corpus.tokenizer import note_training_texts, train_and_save
from clinicalnotebert.demo import ensure_demo_data


def corpus_training_texts(corpus_path) -> Iterator[str]:
    from clinicalnotebert.corpus.store import load_variant

    dataset = load_variant(corpus_path, "sentence")
    for start in range(0, len(dataset), 1000):
        yield from dataset[start : start + 1000]["text"]


def run(cfg: Config) -> dict:
    out_dir = Path(cfg.paths.output_dir)
    if cfg.corpus.path:
        texts = corpus_training_texts(cfg.corpus.path)
        source = "corpus"
    else:
        ensure_demo_data(cfg.data)
        sources = note_sources(cfg.data)
        texts = note_training_texts(
            sources, cfg.prepare, read_subject_list(cfg.prepare.exclude_subjects)
        )
        source = "notes"
    tokenizer = train_and_save(cfg.tokenizer, texts, out_dir)
    return {"vocab_size": len(tokenizer), "source": source}
