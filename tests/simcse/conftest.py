"""Fixtures of the SimCSE tests: a micro encoder pretrained on the demo corpus.

The shared ``demo_corpus`` fixture gives the corpus. The encoder is pretrained the paper's way,
MLM + note-type prediction, so its raw [CLS] serves the note-type head: the "raw pretrained
encoder" that SimCSE should turn into a sentence encoder. ~30 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import shared_run

MICRO_PRETRAIN = (
    "task=pretrain",
    "model=micro",
    "objective=mlm_ntp",
    "seq=sentence",
    "pretrain.max_steps=300",
    "pretrain.optimizer.lr=1e-3",
    "pretrain.batch.sequences=32",
    "pretrain.batch.accumulate=1",
    "pretrain.num_workers=0",
    "pretrain.val_every_steps=1000",
)


@pytest.fixture(scope="session")
def micro_encoder(demo_corpus, tmp_path_factory) -> Path:
    """``<pretrain run>/model``: an HF BERT folder with its tokenizer (NTP head beside it)."""
    overrides = [*MICRO_PRETRAIN, f"corpus.path={demo_corpus}"]
    return shared_run(tmp_path_factory, "simcse-micro-pretrain", overrides)[1] / "model"


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
