"""Fixtures of the clinical prediction tests: a small random encoder and demo-run overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import save_random_bert


@pytest.fixture(scope="session")
def random_encoder(tmp_path_factory, minilm_dir) -> Path:
    """A one-layer, 128-wide random BERT with MiniLM's (bert-base-uncased) WordPiece tokenizer.

    Untrained, so its note vectors are nearly parallel; mean pooling still keeps which words a
    note has, and ``predict.notes.standardize`` makes that usable. Encodes the demo in seconds.
    """
    from transformers import AutoTokenizer

    out = tmp_path_factory.mktemp("random-encoder")
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir))
    tokenizer.save_pretrained(out)
    return save_random_bert(out, tokenizer.vocab_size, layers=1, intermediate_size=256)


@pytest.fixture(scope="session")
def demo_overrides(random_encoder) -> list[str]:
    """A demo run that is quick on CPU: larger val/test splits (so that AUROC is not decided by a
    handful of deaths), two seeds, a 10x learning rate, standardised note vectors."""
    return [
        "task=predict",
        "data=demo",
        f"encoder.path={random_encoder}",
        "predict.notes.pooling=mean",
        "predict.notes.standardize=true",
        "predict.cohort.split.val=0.2",
        "predict.cohort.split.test=0.3",
        "predict.seeds=[3407,340]",
        "predict.lr=1e-3",
    ]
