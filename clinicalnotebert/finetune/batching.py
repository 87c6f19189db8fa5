"""Batches of fine-tuning features: dynamic padding, length-grouped training batches shared out
over the processes, length-sorted prediction batches (docs/finetune.md, "Training").

Features are dicts of model inputs (``input_ids``, optional ``token_type_ids``) plus targets
(``labels``, or ``start_positions`` / ``end_positions``); padding happens per batch.

``finetune.batch_size`` is the batch of one optimizer step, whatever the number of processes:
under DDP each process gets a near-equal share of every batch, and its loss is weighted so that
the mean DDP takes over the processes' gradients is the gradient of the whole batch (see
:func:`shares`). One process trains on exactly the batches it did before Lightning, and N
processes take the same steps on the same batches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from clinicalnotebert.models import IGNORE_INDEX

MODEL_INPUTS = ("input_ids", "token_type_ids")
BOOKKEEPING = ("index", "loss_weight")  # batch keys that are not model inputs


def pad_value(key: str, pad_id: int) -> int:
    return {"input_ids": pad_id, "labels": IGNORE_INDEX}.get(key, 0)


def collate(features: Sequence[dict], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad list-valued keys to the longest feature; add the attention mask."""
    width = max(len(f["input_ids"]) for f in features)
    batch = {}
    for key, first in features[0].items():
        if isinstance(first, list):
            fill = pad_value(key, pad_id)
            batch[key] = torch.tensor([f[key] + [fill] * (width - len(f[key])) for f in features])
        else:
            batch[key] = torch.tensor([f[key] for f in features])
    lengths = torch.tensor([len(f["input_ids"]) for f in features])
    batch["attention_mask"] = (torch.arange(width)[None, :] < lengths[:, None]).long()
    return batch


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator, group_factor: int
) -> list[np.ndarray]:
    """Shuffled batches of similar length: a random order, sorted by length within groups of
    ``group_factor`` batches (as Hugging Face's ``group_by_length``), batches shuffled."""
    lengths = np.asarray(lengths)
    order = rng.permutation(len(lengths))
    group = batch_size * group_factor
    batches = []
    for start in range(0, len(order), group):
        chunk = order[start : start + group]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def loss_units(feature: dict) -> int:
    """What a head's loss is the mean over, in one feature: its labelled positions for per-token
    labels (token classification), else the feature itself (sequence classification, QA)."""
    labels = feature.get("labels")
    if isinstance(labels, list):
        return sum(label != IGNORE_INDEX for label in labels)
    return 1


@dataclass(frozen=True)
class Share:
    """One process's part of a batch: feature indices, and the weight of its (mean) loss."""

    indices: tuple[int, ...]
    weight: float = 1.0


def shares(batch: Sequence[int], units: Sequence[int], world_size: int) -> list[Share]:
    """``batch`` cut into ``world_size`` near-equal consecutive shares, one per process.

    A share's loss is weighted by ``world_size * its units / the batch's units``: the mean of the
    weighted share losses (what DDP's gradient averaging computes) is then the batch's own mean
    loss, whatever the split. A process left without features (a batch smaller than the world)
    gets the batch's first feature with weight 0: it runs the step but adds no gradient.
    """
    batch = [int(i) for i in batch]
    total = sum(units[i] for i in batch) or 1
    result = []
    for part in np.array_split(np.asarray(batch, dtype=np.int64), world_size):
        if len(part) == 0:
            result.append(Share(tuple(batch[:1]), 0.0))
        else:
            weight = world_size * sum(units[i] for i in part) / total
            result.append(Share(tuple(int(i) for i in part), weight))
    return result


class GroupedBatches(Sampler[Share]):
    """The training batches of each epoch, this process's share of each.

    Epoch ``e``'s batches are the ``e+1``-th draw of :func:`length_grouped_batches` from a
    generator seeded with ``seed``, so every process computes the same batches, and a single
    process gets what a loop drawing one epoch after another got. Lightning calls
    ``set_epoch`` on the loader's sampler at the start of each epoch.
    """

    def __init__(
        self,
        features: Sequence[dict],
        batch_size: int,
        group_factor: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.lengths = [len(f["input_ids"]) for f in features]
        self.units = [loss_units(f) for f in features]
        self.batch_size, self.group_factor, self.seed = batch_size, group_factor, seed
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def epoch_batches(self) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        for _ in range(self.epoch + 1):
            batches = length_grouped_batches(self.lengths, self.batch_size, rng, self.group_factor)
        return batches

    def __iter__(self):
        for batch in self.epoch_batches():
            yield shares(batch, self.units, self.world_size)[self.rank]

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)


class ShareRows(Dataset):
    """Map-style access by :class:`Share`: the share's features and its loss weight."""

    def __init__(self, features: Sequence[dict]):
        self.features = features

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, share: Share) -> tuple[list[dict], float]:
        return [self.features[i] for i in share.indices], share.weight


def training_batch(item: tuple[list[dict], float], pad_id: int) -> dict[str, torch.Tensor]:
    rows, weight = item
    return {**collate(rows, pad_id), "loss_weight": torch.tensor(weight, dtype=torch.float32)}


class TrainingData(pl.LightningDataModule):
    """The training loader, built when Lightning knows this process's rank and the world size.

    Sharding is done here, so the trainer runs with ``use_distributed_sampler=False``: Lightning's
    DistributedSampler would shard features, not batches, and lose the length grouping.
    """

    def __init__(
        self, features: Sequence[dict], pad_id: int, batch_size: int, group_factor: int, seed: int
    ):
        super().__init__()
        self.features, self.pad_id = features, pad_id
        self.batch_size, self.group_factor, self.seed = batch_size, group_factor, seed

    def train_dataloader(self) -> DataLoader:
        sampler = GroupedBatches(
            self.features,
            self.batch_size,
            self.group_factor,
            self.seed,
            self.trainer.global_rank,
            self.trainer.world_size,
        )
        return DataLoader(
            ShareRows(self.features),
            sampler=sampler,
            batch_size=None,  # the sampler yields whole shares
            collate_fn=partial(training_batch, pad_id=self.pad_id),
            # the loader's own seed draw must not move the global generator (dropout)
            generator=torch.Generator().manual_seed(self.seed),
        )


def prediction_loader(features: Sequence[dict], pad_id: int, batch_size: int) -> DataLoader:
    """Batches of similar length (longest first), model inputs only, each row with its
    ``index`` in ``features``; not shuffled, not sharded (every process predicts every row)."""
    lengths = np.asarray([len(f["input_ids"]) for f in features])
    order = np.argsort(-lengths, kind="stable")
    rows = [
        {**{k: features[i][k] for k in MODEL_INPUTS if k in features[i]}, "index": int(i)}
        for i in order
    ]
    return DataLoader(
        rows,
        batch_size=batch_size,
        shuffle=False,
        collate_fn=partial(collate, pad_id=pad_id),
        generator=torch.Generator(),
    )
