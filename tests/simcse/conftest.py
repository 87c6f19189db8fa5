"""Fixtures of the SimCSE tests: a micro encoder pretrained on the demo corpus.

The encoder is the root conftest's ``micro_pretrain_run`` (one per test run, shared with the
pretraining tests), pretrained the paper's way, MLM + note-type prediction, so its raw [CLS]
serves the note-type head: the "raw pretrained encoder" that SimCSE should turn into a sentence
encoder.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def micro_encoder(micro_pretrain_run) -> Path:
    """``<pretrain run>/model``: an HF BERT folder with its tokenizer (NTP head beside it)."""
    return micro_pretrain_run[1] / "model"


@pytest.fixture(scope="session")
def simcse_args(demo_corpus, micro_encoder) -> list[str]:
    """A fast SimCSE run on the demo corpus: small batches of short lines (steps: add them)."""
    return [
        "task=simcse",
        "seq=sentence",
        f"corpus.path={demo_corpus}",
        f"encoder.path={micro_encoder}",
        "simcse.per_device=8",
        "simcse.max_tokens=32",
    ]
