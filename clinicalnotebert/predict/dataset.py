"""Model inputs of each ICU stay and their batches (docs/reference.md §6.5).

A stay's text input is the sequence of its admission's note vectors in note order; a stay with
no note in the window gets one zero vector (so that every stay of the cohort is scored, in every
modality). Its structured input is the ``hours x 3V`` matrix of hourly features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


@dataclass
class StayInputs:
    """Inputs of all stays of a cohort, row-aligned with it (either modality may be absent)."""

    labels: np.ndarray
    notes: list[np.ndarray] | None = None
    signals: np.ndarray | None = None

    def subset(self, rows: np.ndarray) -> StayInputs:
        return StayInputs(
            self.labels[rows],
            [self.notes[i] for i in rows] if self.notes is not None else None,
            self.signals[rows] if self.signals is not None else None,
        )


class StayDataset(Dataset):
    def __init__(self, inputs: StayInputs):
        self.inputs = inputs

    def __len__(self) -> int:
        return len(self.inputs.labels)

    def __getitem__(self, index: int) -> dict:
        item = {"labels": int(self.inputs.labels[index])}
        if self.inputs.notes is not None:
            item["notes"] = self.inputs.notes[index]
        if self.inputs.signals is not None:
            item["signals"] = self.inputs.signals[index]
        return item


def collate(items: list[dict]) -> dict:
    """Labels (int64), zero-padded note sequences with their lengths, stacked signals."""
    batch = {"labels": torch.tensor([item["labels"] for item in items], dtype=torch.int64)}
    if "notes" in items[0]:
        dim = items[0]["notes"].shape[1]
        lengths = [max(len(item["notes"]), 1) for item in items]
        notes = torch.zeros(len(items), max(lengths), dim)
        for row, item in enumerate(items):
            notes[row, : len(item["notes"])] = torch.from_numpy(item["notes"])
        batch["notes"], batch["lengths"] = notes, torch.tensor(lengths, dtype=torch.int64)
    if "signals" in items[0]:
        batch["signals"] = torch.from_numpy(np.stack([item["signals"] for item in items]))
    return batch


def loader(inputs: StayInputs, batch_size: int, shuffle: bool, seed: int = 0) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        StayDataset(inputs),
        batch_size=batch_size,
        shuffle=shuffle,
        collate_fn=collate,
        generator=generator,
    )
