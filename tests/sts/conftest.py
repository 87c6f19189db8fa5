"""Fixtures of the STS tests: the real MiniLM encoder (a dev extra)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def minilm(minilm_dir):
    from clinicalnotebert.models.encoder import load_encoder

    return load_encoder(str(minilm_dir))
