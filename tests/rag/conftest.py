"""Offline models for the rag tests: a random micro BERT retriever and a tiny random GPT-2."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.helpers import save_random_bert

VOCABULARY = (
    "patient admitted with chest pain shortness of breath fever cough denies nausea "
    "vomiting abdominal tenderness blood pressure heart rate oxygen saturation room air "
    "lungs clear bilaterally no edema plan continue aspirin heparin monitor telemetry "
    "follow up cardiology chest x ray shows no acute process small left effusion"
)
WORDS = VOCABULARY.split()


def clinical_sentences(count: int, seed: int = 0) -> list[str]:
    """Deterministic pseudo-clinical sentences to train the test tokenizers on."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.randint(6, 20))) + "." for _ in range(count)]


@pytest.fixture(scope="session")
def micro_encoder(tmp_path_factory) -> Path:
    """A random 2 x 128 BERT with its own WordPiece tokenizer (model=micro's shape)."""
    from clinicalnotebert.models.tokenizer import save_tokenizer, train_wordpiece

    out = tmp_path_factory.mktemp("micro-encoder")
    tokenizer = train_wordpiece(clinical_sentences(400), vocab_size=256, min_frequency=1)
    save_tokenizer(tokenizer, out)
    return save_random_bert(out, len(tokenizer), layers=2, intermediate_size=512)


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
