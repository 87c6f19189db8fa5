"""The training pieces: padding, length-grouped batches and their shares over processes, the
two learning-rate schedules."""

import numpy as np
import pytest
import torch

from clinicalnotebert.config import FinetuneConfig
from clinicalnotebert.errors import UserError
from clinicalnotebert.finetune.batching import (
    GroupedBatches,
    collate,
    length_grouped_batches,
    loss_units,
    shares,
)
from clinicalnotebert.finetune.module import lr_schedule


def test_collate_pads_inputs_labels_and_masks():
    features = [
        {"input_ids": [101, 7, 102], "token_type_ids": [0, 0, 0], "labels": [-100, 3, -100]},
        {"input_ids": [101, 102], "token_type_ids": [0, 0], "labels": [-100, -100]},
    ]
    batch = collate(features, pad_id=5)
    assert batch["input_ids"].tolist() == [[101, 7, 102], [101, 102, 5]]
    assert batch["token_type_ids"].tolist() == [[0, 0, 0], [0, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 3, -100], [-100, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    scalar = collate([{"input_ids": [1], "labels": 2}, {"input_ids": [1, 1], "labels": 0}], 0)
    assert scalar["labels"].tolist() == [2, 0]


def test_length_grouped_batches_cover_every_item_once_with_similar_lengths():
    lengths = np.random.default_rng(0).integers(1, 500, size=103)
    batches = length_grouped_batches(lengths, 8, np.random.default_rng(1), group_factor=50)
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))
    assert sum(len(b) < 8 for b in batches) == 1  # 103 = 12 * 8 + 7, one group
    # one group holds everything: batches are runs of the sorted order, so their ranges of
    # lengths never overlap
    ranges = [(lengths[b].min(), lengths[b].max()) for b in batches]
    for low, high in ranges:
        assert all(
            other_low >= high or other_high <= low
            for other_low, other_high in ranges
            if (other_low, other_high) != (low, high)
        )
    again = length_grouped_batches(lengths, 8, np.random.default_rng(1), group_factor=50)
    assert all((a == b).all() for a, b in zip(batches, again, strict=True))


def test_loss_units_are_labelled_positions_or_one_row():
    assert loss_units({"input_ids": [1, 2, 3, 4], "labels": [-100, 2, 0, -100]}) == 2
    assert loss_units({"input_ids": [1, 2], "labels": 1}) == 1
    assert loss_units({"input_ids": [1, 2], "start_positions": 0, "end_positions": 1}) == 1


@pytest.mark.parametrize(
    ("batch", "units", "expected"),
    [
        ([0, 1, 2, 3, 4], [1] * 5, [((0, 1, 2), 2 * 3 / 5), ((3, 4), 2 * 2 / 5)]),
        ([2, 0, 1], [3, 1, 2], [((2, 0), 2 * 5 / 6), ((1,), 2 * 1 / 6)]),  # token counts
        ([7], [0] * 7 + [4], [((7,), 2.0), ((7,), 0.0)]),  # a lone row: the other process idles
    ],
)
def test_shares_weight_losses_so_that_their_mean_is_the_batch_loss(batch, units, expected):
    parts = shares(batch, units, world_size=2)
    assert [(p.indices, pytest.approx(p.weight)) for p in parts] == expected
    # each share's loss is the mean over its units; DDP averages the two weighted losses
    per_unit = {i: 0.3 + 0.7 * i for i in batch}  # any per-unit losses
    batch_loss = sum(per_unit[i] * units[i] for i in batch) / sum(units[i] for i in batch)
    share_losses = [
        sum(per_unit[i] * units[i] for i in p.indices) / sum(units[i] for i in p.indices)
        for p in parts
    ]
    assert sum(p.weight * loss for p, loss in zip(parts, share_losses, strict=True)) / 2 == (
        pytest.approx(batch_loss)
    )
    assert shares(batch, units, world_size=1)[0].weight == 1.0  # one process: exactly 1


def test_grouped_batches_follow_the_epochs_and_share_every_batch():
    lengths = np.random.default_rng(3).integers(2, 60, size=21)
    features = [{"input_ids": [0] * n, "labels": 0} for n in lengths]
    rng = np.random.default_rng(42)  # the order one loop drawing epoch after epoch gets
    expected = [length_grouped_batches(lengths, 8, rng, 50) for _ in range(3)]
    one = GroupedBatches(features, 8, 50, seed=42)
    ranks = [GroupedBatches(features, 8, 50, seed=42, rank=r, world_size=2) for r in (0, 1)]
    assert len(one) == len(ranks[0]) == 3
    for epoch in (2, 0, 1):  # any order: each epoch is drawn from the seed alone
        for sampler in (one, *ranks):
            sampler.set_epoch(epoch)
        assert [s.indices for s in one] == [tuple(b) for b in expected[epoch]]
        assert all(s.weight == 1.0 for s in one)
        for batch, first, second in zip(expected[epoch], *ranks, strict=True):
            assert first.indices + second.indices == tuple(batch)
            assert first.weight + second.weight == pytest.approx(2.0)


def learning_rates(name: str, total: int) -> list[float]:
    ft = FinetuneConfig(scheduler=name, warmup_ratio=0.1)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = lr_schedule(optimizer, ft, total)
    rates = []
    for _ in range(total):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_linear_warms_up_then_decays_and_constant_ignores_warmup():
    # 20 steps, warmup ceil(0.1 * 20) = 2: 0, 1/2, then 1 - k/18 for k = 0..17
    assert learning_rates("linear", 20) == pytest.approx(
        [0.0, 0.5] + [1 - k / 18 for k in range(18)]
    )
    assert learning_rates("constant", 20) == [1.0] * 20  # [QUIRK] the reference's schedule


def test_unknown_scheduler_is_a_user_error(make_cfg):
    with pytest.raises(UserError, match="finetune.scheduler 'sawtooth'"):
        learning_rates("sawtooth", 4)
    with pytest.raises(UserError, match="finetune.scheduler 'sawtooth' is not one of linear"):
        make_cfg("task=finetune", "finetune.scheduler=sawtooth")  # before any work
