"""Length-grouped batch plans, token budgets, rank sharding and a resumable data order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clinicalnotebert.config import MaskingConfig, PretrainBatch
from clinicalnotebert.corpus.store import load_variant
from clinicalnotebert.pretrain.data import (
    CorpusRows,
    MaskedBatches,
    SplitView,
    TrainStream,
    plan_batches,
    split_rows,
)
from clinicalnotebert.pretrain.masking import WholeWordMasker

BY_COUNT = PretrainBatch(
    sequences=16, accumulate=1, tokens=None, group_batches=8, pad_to_multiple_of=1
)

MASKING = MaskingConfig(mask_token_ratio=0.8, random_token_ratio=0.1, max_predictions=512)


def padded_tokens(lengths, batches) -> int:
    return sum(len(b) * lengths[b].max() for b in batches)


def test_a_plan_covers_every_sequence_once_and_depends_on_the_seed_only():
    lengths = np.random.default_rng(0).integers(18, 128, size=1000)
    plan = plan_batches(lengths, BY_COUNT, np.random.default_rng([1, 0]))
    np.testing.assert_array_equal(np.sort(np.concatenate(plan)), np.arange(1000))
    assert all(len(b) == 16 for b in plan[:-1]) or sum(len(b) < 16 for b in plan) == 1
    again = plan_batches(lengths, BY_COUNT, np.random.default_rng([1, 0]))
    assert all(np.array_equal(a, b) for a, b in zip(plan, again, strict=True))
    other = plan_batches(lengths, BY_COUNT, np.random.default_rng([1, 1]))
    assert not all(np.array_equal(a, b) for a, b in zip(plan, other, strict=True))


def test_length_grouping_pads_much_less_than_random_batches():
    lengths = np.random.default_rng(0).integers(18, 128, size=2000)
    settings = PretrainBatch(
        sequences=16, accumulate=1, tokens=None, group_batches=64, pad_to_multiple_of=1
    )
    grouped = plan_batches(lengths, settings, np.random.default_rng(0))
    order = np.random.default_rng(0).permutation(2000)
    random_batches = [order[i : i + 16] for i in range(0, 2000, 16)]
    real = lengths.sum()
    grouped_waste = 1 - real / padded_tokens(lengths, grouped)
    random_waste = 1 - real / padded_tokens(lengths, random_batches)
    assert grouped_waste < 0.03 < 0.25 < random_waste


def test_token_budget_bounds_every_micro_batch():
    lengths = np.random.default_rng(2).integers(18, 256, size=1500)
    settings = PretrainBatch(
        sequences=1, accumulate=1, tokens=1024, group_batches=8, pad_to_multiple_of=8
    )
    plan = plan_batches(lengths, settings, np.random.default_rng(0))
    np.testing.assert_array_equal(np.sort(np.concatenate(plan)), np.arange(1500))
    widths = [-(-lengths[b].max() // 8) * 8 for b in plan]
    assert all(len(b) * w <= 1024 for b, w in zip(plan, widths, strict=True))
    # the budget is used: most of it goes to sequences, not to nothing
    assert sum(len(b) * w for b, w in zip(plan, widths, strict=True)) > 0.8 * 1024 * len(plan)


def test_validation_split_is_seeded_and_disjoint():
    train, val = split_rows(1000, 0.05, 30, seed=4)
    assert len(val) == 30 and len(train) == 970
    assert not set(train) & set(val)
    again, val_again = split_rows(1000, 0.05, 30, seed=4)
    np.testing.assert_array_equal(val, val_again)
    assert not np.array_equal(val, split_rows(1000, 0.05, 30, seed=5)[1])


@pytest.fixture(scope="module")
def stream_parts(demo_corpus, demo_tokenizer):
    dataset = load_variant(demo_corpus, "sentence")
    masker = WholeWordMasker(demo_tokenizer, MASKING, 0.15)
    batches = MaskedBatches(CorpusRows(dataset, True), masker)
    lengths = dataset.with_format("arrow")["length"].to_numpy()
    return batches, lengths


def make_stream(parts, rank=0, world=1, settings=BY_COUNT):
    """A stream over the first 600 demo sentences (a training split of 600 rows)."""
    batches, lengths = parts
    rows = np.arange(600)
    return TrainStream(batches, SplitView(rows, lengths[rows], settings, 9, rank, world))


def same_batch(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in ("input_ids", "labels", "note_category"))


def test_stream_items_do_not_depend_on_what_was_read_before(stream_parts):
    """A resumed run builds a fresh stream and starts at item n: it must see what the first saw."""
    walked = make_stream(stream_parts)
    seen = [walked[n] for n in range(0, 80)]  # 600 sequences / 16: 38 per epoch, so 2+ epochs
    fresh = make_stream(stream_parts)
    for n in (79, 5, 40, 38, 0):
        assert same_batch(fresh[n], seen[n])
        assert fresh[n]["stream_index"] == n
    assert not same_batch(seen[0], seen[38])  # epoch 1 reshuffles


def test_each_epoch_visits_every_training_sequence(stream_parts):
    stream = make_stream(stream_parts)
    per_epoch = stream.per_rank(0)
    assert per_epoch == 38  # 600 / 16 rounded up; one rank takes them all
    rows = np.concatenate([stream.plan(0)[stream.locate(n)[1]] for n in range(per_epoch)])
    np.testing.assert_array_equal(np.sort(rows), np.arange(600))


def test_ranks_take_disjoint_micro_batches(stream_parts):
    ranks = [make_stream(stream_parts, rank=r, world=2) for r in range(2)]
    assert ranks[0].per_rank(0) == ranks[1].per_rank(0) == 19
    taken = [
        np.concatenate([s.plan(0)[s.locate(n)[1]] for n in range(s.per_rank(0))]) for s in ranks
    ]
    assert not set(taken[0]) & set(taken[1])
    assert len(taken[0]) + len(taken[1]) == 600
