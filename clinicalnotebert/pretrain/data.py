"""The pretraining DataModule: a memory-mapped corpus variant, length-grouped masked batches.

The data order is a pure function of ``(seed, epoch)`` and each micro-batch's masking of
``(seed, epoch, position)``, so a run resumed at optimizer step ``s`` starts at micro-batch
``s * accumulate`` and sees exactly what the uninterrupted run saw. Under DDP every rank walks
the same epoch plan, taking every ``world_size``-th micro-batch from its own rank on.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from clinicalnotebert.config import PretrainBatch
from clinicalnotebert.errors import UserError
from clinicalnotebert.pretrain.masking import WholeWordMasker

# Stream tags keep the random draws of different purposes independent for the same seed.
SPLIT_STREAM, PLAN_STREAM, MASK_STREAM, VAL_STREAM = range(4)


def padded_width(length: np.ndarray | int, multiple: int) -> np.ndarray | int:
    return -(-length // multiple) * multiple


def split_rows(count: int, val_fraction: float, val_max: int, seed: int):
    """``(train_rows, val_rows)``: a seeded random hold-out of ``val_fraction`` (at most ``val_max``)."""
    val_count = min(val_max, int(round(count * val_fraction))) if count > 1 else 0
    order = np.random.default_rng([seed, SPLIT_STREAM]).permutation(count)
    return np.sort(order[val_count:]), np.sort(order[:val_count])


def cut_sorted(lengths: np.ndarray, settings: PretrainBatch) -> list[slice]:
    """Slices of consecutive positions of ``lengths`` (sorted longest first) forming micro-batches."""
    if settings.tokens is None:
        step = settings.sequences
        return [slice(i, i + step) for i in range(0, len(lengths), step)]
    slices, start = [], 0
    while start < len(lengths):
        width = padded_width(int(lengths[start]), settings.pad_to_multiple_of)
        stop = start + max(1, settings.tokens // width)
        slices.append(slice(start, stop))
        start = stop
    return slices


def group_size(lengths: np.ndarray, settings: PretrainBatch) -> int:
    if settings.tokens is None:
        return settings.sequences * settings.group_batches
    per_batch = max(1, settings.tokens // max(1, int(lengths.mean())))
    return per_batch * settings.group_batches


def plan_batches(lengths: np.ndarray, settings: PretrainBatch, rng) -> list[np.ndarray]:
    """Positions into ``lengths`` per micro-batch: shuffled, length-sorted within groups of
    ``group_batches`` micro-batches (so batches pad little), then the batches shuffled."""
    order = rng.permutation(len(lengths))
    size = group_size(lengths, settings)
    batches = []
    for start in range(0, len(order), size):
        group = order[start : start + size]
        group = group[np.argsort(-lengths[group], kind="stable")]
        batches.extend(group[part] for part in cut_sorted(lengths[group], settings))
    return [batches[i] for i in rng.permutation(len(batches))]


def sorted_batches(lengths: np.ndarray, settings: PretrainBatch) -> list[np.ndarray]:
    """Fixed length-sorted micro-batches (validation: no randomness needed)."""
    order = np.argsort(-lengths, kind="stable")
    return [order[part] for part in cut_sorted(lengths[order], settings)]


class CorpusRows:
    """Gathers rows of a memory-mapped corpus dataset as id arrays (and note categories)."""

    def __init__(self, dataset, with_note_category: bool):
        columns = ["input_ids", "note_category"] if with_note_category else ["input_ids"]
        self.table = dataset.with_format("arrow", columns=columns)
        self.with_note_category = with_note_category

    def gather(self, rows: np.ndarray) -> tuple[list[np.ndarray], np.ndarray | None]:
        part = self.table[rows.tolist()]
        ids = part.column("input_ids").combine_chunks()
        flat = ids.values.to_numpy(zero_copy_only=False)
        offsets = ids.offsets.to_numpy()
        sequences = [flat[a:b] for a, b in itertools.pairwise(offsets)]
        if not self.with_note_category:
            return sequences, None
        return sequences, part.column("note_category").to_numpy().astype(np.int64)


@dataclass
class MaskedBatches:
    """Masks and tensorises the batch at given corpus rows with a given random generator."""

    rows: CorpusRows
    masker: WholeWordMasker

    def make(self, corpus_rows: np.ndarray, rng: np.random.Generator) -> dict:
        sequences, categories = self.rows.gather(corpus_rows)
        batch = self.masker(sequences, rng)
        if categories is not None:
            batch["note_category"] = torch.from_numpy(categories)
        return batch


@dataclass(frozen=True)
class SplitView:
    """One split (train or validation) as one rank sees it."""

    rows: np.ndarray  # corpus rows of the split
    lengths: np.ndarray  # their token counts
    settings: PretrainBatch
    seed: int
    rank: int = 0
    world_size: int = 1


class TrainStream(Dataset):
    """Item ``n`` is this rank's ``n``-th micro-batch of the run, across epochs."""

    def __init__(self, batches: MaskedBatches, split: SplitView):
        self.batches, self.split = batches, split
        self.epoch_starts = [0]  # first stream index of each planned epoch
        self.cached: tuple[int, list[np.ndarray]] | None = None

    def plan(self, epoch: int) -> list[np.ndarray]:
        if self.cached is None or self.cached[0] != epoch:
            rng = np.random.default_rng([self.split.seed, PLAN_STREAM, epoch])
            self.cached = (epoch, plan_batches(self.split.lengths, self.split.settings, rng))
        return self.cached[1]

    def per_rank(self, epoch: int) -> int:
        """Micro-batches each rank takes from the epoch (equal on every rank; the rest dropped)."""
        return len(self.plan(epoch)) // self.split.world_size

    def locate(self, n: int) -> tuple[int, int]:
        """``(epoch, position in the epoch's plan)`` of stream item ``n``."""
        while self.epoch_starts[-1] <= n:
            epoch = len(self.epoch_starts) - 1
            self.epoch_starts.append(self.epoch_starts[-1] + self.per_rank(epoch))
        epoch = int(np.searchsorted(self.epoch_starts, n, side="right")) - 1
        offset = n - self.epoch_starts[epoch]
        return epoch, offset * self.split.world_size + self.split.rank

    def __getitem__(self, n: int) -> dict:
        epoch, position = self.locate(n)
        members = self.plan(epoch)[position]
        rng = np.random.default_rng([self.split.seed, MASK_STREAM, epoch, position])
        batch = self.batches.make(self.split.rows[members], rng)
        batch["stream_index"] = n  # seeds this micro-batch's dropout
        return batch


class ValBatches(Dataset):
    """This rank's share of the fixed validation micro-batches, each with its fixed masks."""

    def __init__(self, batches: MaskedBatches, split: SplitView):
        self.batches, self.split = batches, split
        self.plan = sorted_batches(split.lengths, split.settings)
        self.numbers = list(range(split.rank, len(self.plan), split.world_size))

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, i: int) -> dict:
        number = self.numbers[i]
        rng = np.random.default_rng([self.split.seed, VAL_STREAM, number])
        return self.batches.make(self.split.rows[self.plan[number]], rng)


class CountFrom(Sampler[int]):
    """0-based stream indices from ``start`` on, without end (training is bounded by max_steps)."""

    def __init__(self, start: int):
        self.start = start

    def __iter__(self):
        return itertools.count(self.start)


class PretrainDataModule(pl.LightningDataModule):
    """Train stream and validation batches over one corpus variant (``load_variant``)."""

    def __init__(
        self,
        dataset,
        lengths: np.ndarray,
        masker: WholeWordMasker,
        batch: PretrainBatch,
        splits: tuple[np.ndarray, np.ndarray],
        with_note_category: bool,
        seed: int,
        num_workers: int = 0,
    ):
        super().__init__()
        self.batches = MaskedBatches(CorpusRows(dataset, with_note_category), masker)
        self.all_lengths = lengths
        self.train_rows, self.val_rows = splits
        self.batch, self.seed, self.num_workers = batch, seed, num_workers

    def view(self, rows: np.ndarray) -> SplitView:
        """``rows`` as this process sees them (its rank among the trainer's processes)."""
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        return SplitView(rows, self.all_lengths[rows], self.batch, self.seed, rank, world)

    def loader_for(self, dataset: Dataset, sampler: Sampler | None = None) -> DataLoader:
        workers = self.num_workers
        return DataLoader(
            dataset,
            batch_size=None,  # items are whole micro-batches
            sampler=sampler,
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=torch.cuda.is_available(),
        )

    def train_dataloader(self) -> DataLoader:
        split = self.view(self.train_rows)
        stream = TrainStream(self.batches, split)
        if stream.per_rank(0) == 0:
            raise UserError(
                f"the corpus split has {len(self.train_rows)} training sequences: too few for "
                f"one micro-batch on each of {split.world_size} processes"
            )
        steps_done = self.trainer.global_step if self.trainer else 0
        # the resume offset: micro-batches already consumed by the optimizer steps done
        return self.loader_for(stream, CountFrom(steps_done * self.batch.accumulate))

    def val_dataloader(self) -> DataLoader:
        return self.loader_for(ValBatches(self.batches, self.view(self.val_rows)))
