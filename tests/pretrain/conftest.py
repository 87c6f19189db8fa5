"""Fixtures of the pretraining tests: the demo corpus's tokenizer, derived corpora, MiniLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinicalnotebert.corpus.store import corpus_tokenizer
from tests.pretrain.corpora import derive_corpus


@pytest.fixture(scope="session")
def demo_tokenizer(demo_corpus):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(corpus_tokenizer(demo_corpus))


@pytest.fixture(scope="session")
def unlabelled_corpus(demo_corpus, tmp_path_factory) -> Path:
    """Demo sentences without the note_category column."""
    root = tmp_path_factory.mktemp("unlabelled")
    return derive_corpus(demo_corpus, root, drop_note_category=True, rows=100)


@pytest.fixture(scope="session")
def minilm_corpus(demo_corpus, minilm_dir, tmp_path_factory) -> Path:
    """Demo sentences re-tokenised from their text with MiniLM's tokenizer (bert-base vocab)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir))
    root = tmp_path_factory.mktemp("minilm-corpus")
    return derive_corpus(demo_corpus, root, tokenizer, str(minilm_dir), rows=200)
