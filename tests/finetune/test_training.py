"""The shared loop's parts: padding, length-grouped batches, the two learning-rate schedules."""

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from clinicalnotebert.errors import UserError
from clinicalnotebert.finetune.training import (
    build_scheduler,
    collate,
    length_grouped_batches,
)


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


def learning_rates(name: str, total: int) -> list[float]:
    ft = OmegaConf.create({"scheduler": name, "warmup_ratio": 0.1})
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = build_scheduler(optimizer, ft, total)
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


def test_unknown_scheduler_is_a_user_error():
    with pytest.raises(UserError, match="finetune.scheduler 'sawtooth'"):
        learning_rates("sawtooth", 4)
