"""STS scoring: the reference's train_sample, correlations, cosine, pair embedding."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from clinicalnotebert.errors import UserError
from clinicalnotebert.models.encoder import encode_texts
from clinicalnotebert.sts.evaluate import (
    correlations,
    cosine_rows,
    embed_pairs,
    load_split,
    sample_indices,
    score_pairs,
)
from clinicalnotebert.sts.readers import Pairs, read_pairs


def test_train_sample_is_the_reference_sample(shared_data):
    """The reference re-seeds before sampling each of s1, s2 and scores; one index draw is the same."""
    root = shared_data / "stsbenchmark"
    full = read_pairs(root / "sts-train.csv")
    sampled = load_split(root, "train_sample", "auto", sample_size=200, seed=42)
    reference = []
    for column in (full.first, full.second, list(full.scores)):
        random.seed(42)
        reference.append(random.sample(column, 200))
    assert sampled.first == reference[0]
    assert sampled.second == reference[1]
    assert sampled.scores.tolist() == reference[2]


def test_train_sample_of_a_small_file_uses_every_pair():
    assert sorted(sample_indices(5, 200, 42)) == [0, 1, 2, 3, 4]


def test_splits_from_a_directory(shared_data):
    root = shared_data / "stsbenchmark"
    assert len(load_split(root, "dev", "auto", 200, 42)) == 1500
    assert len(load_split(root / "sts-test.csv", "test", "auto", 200, 42)) == 1379
    with pytest.raises(UserError, match="sts.split 'both'"):
        load_split(root, "both", "auto", 200, 42)


def test_correlations_against_independent_formulas():
    gold = np.array([0.0, 1.0, 2.5, 4.0, 5.0])
    predicted = np.array([0.1, 0.3, 0.2, 0.9, 0.95])
    result = correlations(gold, predicted)
    assert result["pearson"] == pytest.approx(np.corrcoef(gold, predicted)[0, 1] * 100)
    # Ranks of predicted: 1, 3, 2, 4, 5 -> d = (0, 1, -1, 0, 0): rho = 1 - 6*2/(5*24) = 0.9
    assert result["spearman"] == pytest.approx(90.0)


def test_cosine_rows():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [3.0, 4.0]])
    b = np.array([[0.0, 2.0], [2.0, 2.0], [-3.0, -4.0]])
    assert cosine_rows(a, b) == pytest.approx([0.0, 1.0, -1.0])


def test_score_pairs_needs_two_pairs():
    one = Pairs(["a"], ["b"], np.array([1.0]))
    with pytest.raises(UserError, match="at least 2"):
        score_pairs(one, np.ones((1, 2)), np.ones((1, 2)))


PAIRS = Pairs(
    ["A man plays the guitar.", "A dog runs.", "A man plays the guitar."],
    ["Someone plays music.", "A cat sleeps on a long sofa in the sun.", "A dog runs."],
    np.array([4.0, 0.5, 1.0]),
)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_embed_pairs_matches_encoding_each_side(minilm, pooling):
    tokenizer, model = minilm
    first, second = embed_pairs(PAIRS, tokenizer, model, pooling, batch_size=2, max_length=128)
    assert np.allclose(first, encode_texts(PAIRS.first, tokenizer, model, pooling), atol=1e-5)
    assert np.allclose(second, encode_texts(PAIRS.second, tokenizer, model, pooling), atol=1e-5)


def test_cls_mlp_applies_the_simcse_head(minilm):
    tokenizer, model = minilm
    generator = torch.Generator().manual_seed(0)
    mlp = {"weight": torch.randn(384, 384, generator=generator) * 0.05, "bias": torch.randn(384)}
    first, _ = embed_pairs(PAIRS, tokenizer, model, "cls_mlp", 64, 128, mlp)
    cls = torch.from_numpy(encode_texts(PAIRS.first, tokenizer, model, "cls"))
    expected = torch.tanh(torch.nn.functional.linear(cls, mlp["weight"], mlp["bias"]))
    assert np.allclose(first, expected.numpy(), atol=1e-5)
    with pytest.raises(UserError, match="simcse_mlp.safetensors"):
        embed_pairs(PAIRS, tokenizer, model, "cls_mlp", 64, 128)
    with pytest.raises(UserError, match="sts.pooling 'max'"):
        embed_pairs(PAIRS, tokenizer, model, "max", 64, 128)
