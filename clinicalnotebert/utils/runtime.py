"""Process-level helpers shared by every task: seeding, tracker shutdown, devices."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (and CUDA when present) for a reproducible run."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    import torch

    torch.manual_seed(seed)


def finish_trackers() -> None:
    """Close a wandb run if one is open, so that each multirun job gets its own run."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        wandb.finish()


def resolve_device(name: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; anything else is returned as is."""
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def is_rank_zero() -> bool:
    """True in the process that owns the run dir (every non-distributed run, rank 0 under DDP)."""
    return all(
        int(os.environ.get(var, 0)) == 0
        for var in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID")
    )
