"""Offline models for the rag tests: a random micro BERT retriever and a tiny random GPT-2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import clinical_sentences


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """A random 2-layer GPT-2 (64 wide, 128 positions) with a byte-level BPE tokenizer."""
    import torch
    from omegaconf import OmegaConf

    from clinicalnotebert.rag.lm import tiny_gpt2, train_byte_bpe

    out = tmp_path_factory.mktemp("tiny-lm")
    tokenizer = train_byte_bpe(clinical_sentences(400), vocab_size=320)
    torch.manual_seed(0)
    shape = OmegaConf.create({"n_positions": 128, "n_embd": 64, "n_layer": 2, "n_head": 2})
    model = tiny_gpt2(tokenizer, shape)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out
