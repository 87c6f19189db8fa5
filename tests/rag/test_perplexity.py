"""Sliding-window perplexity: the docs/reference.md §5.4 definition, batching, retrieval and top-k averaging."""

from __future__ import annotations

import math

import faiss
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from clinicalnotebert.errors import UserError
from clinicalnotebert.rag.lm import load_lm
from clinicalnotebert.rag.perplexity import (
    Window,
    WindowLogits,
    augmented,
    decoded_queries,
    query_span,
    relative_reduction,
    score_text,
    sliding_windows,
)
from clinicalnotebert.rag.task import retrieve
from tests.helpers import clinical_sentences

MAX_LENGTH, STRIDE = 32, 12


@pytest.fixture(scope="module")
def lm(tiny_lm):
    return load_lm(str(tiny_lm), "cpu", torch.float32)


@pytest.fixture(scope="module")
def text_ids(lm) -> list[int]:
    tokenizer, _ = lm
    ids = tokenizer(" ".join(clinical_sentences(12, seed=7)), add_special_tokens=False)["input_ids"]
    assert len(ids) > 3 * MAX_LENGTH and len(ids) % STRIDE != 0  # full windows and a short tail
    return ids


def test_windows_follow_the_reference_loop_by_hand():
    # L=10, max_length=4, stride=2: the first window scores tokens 1..3, each later one its 2 new.
    assert sliding_windows(10, 4, 2) == [
        Window(0, 4, 3),
        Window(2, 6, 2),
        Window(4, 8, 2),
        Window(6, 10, 2),
    ]
    # Non-overlapping windows (stride == max_length) lose each window's first token, as the
    # reference's slice logits[-max_len:-1] does.
    assert sliding_windows(9, 4, 4) == [Window(0, 4, 3), Window(4, 8, 3), Window(8, 9, 0)]
    # A text shorter than one window is one window.
    assert sliding_windows(5, 8, 4) == [Window(0, 5, 4)]


@pytest.mark.parametrize(
    ("length", "max_length", "stride"), [(100, 32, 12), (64, 16, 16), (7, 32, 8)]
)
def test_overlapping_windows_score_every_token_but_the_first_once(length, max_length, stride):
    scored = [
        t for w in sliding_windows(length, max_length, stride) for t in range(w.score_start, w.end)
    ]
    if stride < max_length:
        assert scored == list(range(1, length))
    assert len(scored) == len(set(scored))


def test_bad_stride_and_empty_text_are_user_errors():
    with pytest.raises(UserError, match="rag.stride"):
        sliding_windows(100, 16, 32)
    with pytest.raises(UserError, match="fewer than 2"):
        sliding_windows(1, 16, 8)


def direct_perplexity(model, ids: list[int], max_length: int, stride: int) -> float:
    """The Hugging Face documentation's loop, one window at a time, loss from ``labels``."""
    nll, prev_end = 0.0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + max_length, len(ids))
        target_length = end - prev_end
        input_ids = torch.tensor([ids[begin:end]])
        labels = input_ids.clone()
        labels[:, :-target_length] = -100
        with torch.no_grad():
            loss = model(input_ids, labels=labels).loss
        nll += loss.item() * int((labels[:, 1:] != -100).sum())
        prev_end = end
        if end == len(ids):
            break
    return math.exp(nll / len(ids))


def test_batched_perplexity_equals_the_direct_unbatched_computation(lm, text_ids):
    _, model = lm
    windows = sliding_windows(len(text_ids), MAX_LENGTH, STRIDE)
    totals = score_text(model, text_ids, windows, [[] for _ in windows], 128, batch_size=3)
    expected = direct_perplexity(model, text_ids, MAX_LENGTH, STRIDE)
    assert totals.perplexity("base") == pytest.approx(expected, rel=1e-5)
    assert totals.scored_tokens == len(text_ids) - 1
    # No chunks: the retrieval figures are the plain ones.
    assert totals.perplexity("top1") == totals.perplexity("base")
    assert totals.perplexity("topk") == totals.perplexity("base")


def reference_slice_logits(model, sequence: list[int], target_length: int, max_length: int):
    """docs/reference.md §5.4's two slices, on one unpadded sequence: (logits, labels) of the scored span."""
    with torch.no_grad():
        logits = model(torch.tensor([sequence])).logits[0]
    labels = torch.tensor(sequence)
    if target_length < max_length:
        return logits[-target_length - 1 : -1], labels[-target_length:]
    return logits[-max_length:-1], labels[-max_length + 1 :]


def test_retrieval_figures_equal_a_direct_computation(lm, text_ids):
    tokenizer, model = lm
    positions = 128
    chunk_pool = [
        tokenizer(t, add_special_tokens=False)["input_ids"] for t in clinical_sentences(3, seed=1)
    ]
    chunk_pool.append(list(text_ids[:110]))  # long enough to be left-truncated
    windows = sliding_windows(len(text_ids), MAX_LENGTH, STRIDE)
    chunks = [[chunk_pool[(w + j) % 4] for j in range(2)] for w in range(len(windows))]
    totals = score_text(model, text_ids, windows, chunks, positions, batch_size=4)

    top1 = topk = 0.0
    prev_end = 0
    for window, pair in zip(windows, chunks, strict=True):
        target_length = window.end - prev_end
        prev_end = window.end
        window_ids = list(text_ids[window.begin : window.end])
        sliced = [
            reference_slice_logits(
                model, ([*c, *window_ids])[-positions:], target_length, MAX_LENGTH
            )
            for c in pair
        ]
        labels = sliced[0][1]
        top1 += F.cross_entropy(sliced[0][0], labels, reduction="sum").item()
        averaged = (sliced[0][0] + sliced[1][0]) / 2
        topk += F.cross_entropy(averaged, labels, reduction="sum").item()
    assert totals.perplexity("top1") == pytest.approx(math.exp(top1 / len(text_ids)), rel=1e-5)
    assert totals.perplexity("topk") == pytest.approx(math.exp(topk / len(text_ids)), rel=1e-5)
    assert totals.perplexity("base") == pytest.approx(
        direct_perplexity(model, text_ids, MAX_LENGTH, STRIDE), rel=1e-5
    )


def test_topk_averages_logits_not_probabilities_by_hand():
    target = torch.tensor([0])
    base = torch.tensor([[0.0, 0.0, 0.0]])
    chunk_a = torch.tensor([[2.0, 0.0, 0.0]])
    chunk_b = torch.tensor([[0.0, 0.0, 0.0]])
    entry = WindowLogits(3, [base, chunk_a, chunk_b])
    nll_base, nll_top1, nll_topk = entry.nll(target)
    assert nll_base == pytest.approx(math.log(3))
    assert nll_top1 == pytest.approx(math.log(1 + 2 * math.exp(-2)))
    # mean logits [1, 0, 0]: -log(e / (e + 2)) = log(1 + 2/e)
    assert nll_topk == pytest.approx(math.log(1 + 2 / math.e))
    probability_average = -math.log((math.exp(2) / (math.exp(2) + 2) + 1 / 3) / 2)
    assert abs(nll_topk - probability_average) > 0.02


def test_chunk_is_prepended_and_left_truncated():
    assert augmented([1, 2, 3, 4, 5], [6, 7, 8], 6) == [3, 4, 5, 6, 7, 8]
    assert augmented([1, 2], [6, 7, 8], 3) == [6, 7, 8]
    assert augmented([1, 2], [6, 7, 8], 10) == [1, 2, 6, 7, 8]


def test_relative_reduction():
    assert relative_reduction(10.0, 8.0) == pytest.approx(20.0)
    assert relative_reduction(10.0, 12.5) == pytest.approx(-25.0)


@pytest.mark.parametrize(
    ("length", "max_length", "stride"), [(1000, 512, 256), (300, 64, 64), (50, 64, 32)]
)
def test_prefix_query_ends_before_the_scored_span(length, max_length, stride):
    for window in sliding_windows(length, max_length, stride):
        start, stop = query_span(window, "prefix")
        assert window.begin <= start <= stop <= window.score_start
        # The reference's query is the whole window: it holds the scored tokens.
        assert query_span(window, "window") == (window.begin, window.end)


def test_prefix_query_text_does_not_change_with_the_scored_tokens(lm, text_ids):
    tokenizer, _ = lm
    windows = sliding_windows(len(text_ids), MAX_LENGTH, STRIDE)
    for mode, unchanged in (("prefix", True), ("window", False)):
        for window in windows[1:]:
            altered = list(text_ids)
            altered[window.score_start : window.end] = [5] * window.scored
            span = [query_span(window, mode)]
            same = decoded_queries(tokenizer, text_ids, span) == decoded_queries(
                tokenizer, altered, span
            )
            assert same is unchanged


class SpyEncoder:
    """Records the queries it is asked to embed; returns fixed vectors."""

    def __init__(self):
        self.queries: list[str] = []

    def embed(self, texts, description=None):
        self.queries.extend(texts)
        return np.ones((len(texts), 4), dtype=np.float32)


def test_retrieve_queries_are_the_unscored_prefixes(lm, text_ids):
    tokenizer, _ = lm
    windows = sliding_windows(len(text_ids), MAX_LENGTH, STRIDE)
    index = faiss.IndexFlatL2(4)
    index.add(np.arange(12, dtype=np.float32).reshape(3, 4))
    cfg = OmegaConf.create(
        {"query": "prefix", "min_query_tokens": 16, "k": 2, "search_batch_size": 2}
    )
    spy = SpyEncoder()
    neighbours = retrieve(tokenizer, text_ids, windows, spy, index, cfg)
    # The first window's prefix is one token: no query, no chunks; the others ask once each.
    assert neighbours[0] == []
    assert all(row == [0, 1] for row in neighbours[1:])
    expected = [tokenizer.decode(text_ids[w.begin : w.score_start]) for w in windows[1:]]
    assert spy.queries == expected
