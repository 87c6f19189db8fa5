"""The optimizer conventions every training stage shares (pretraining, SimCSE, fine-tuning)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch


def decay_groups(parameters: Iterable[torch.nn.Parameter], weight_decay: float) -> list[dict]:
    """AdamW parameter groups of the trainable tensors: no weight decay on 1-D tensors (biases and
    LayerNorm weights), as BERT and the Hugging Face Trainer."""
    trainable = [p for p in parameters if p.requires_grad]
    return [
        {"params": [p for p in trainable if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0},
    ]


def warmup_steps(warmup_ratio: float, total_steps: int) -> int:
    """Linear-warmup length, rounded up as the Hugging Face Trainer does."""
    return math.ceil(warmup_ratio * total_steps)


def adamw(
    parameters: Iterable[torch.nn.Parameter],
    *,
    lr: float,
    weight_decay: float,
    eps: float,
    betas: Sequence[float] = (0.9, 0.999),
    fused: bool | None = None,
    device_type: str = "cpu",
) -> torch.optim.AdamW:
    """The AdamW of every training stage: :func:`decay_groups`, and the fused kernel on CUDA
    unless ``fused`` says otherwise (it is not available on every device)."""
    use_fused = device_type == "cuda" if fused is None else fused
    return torch.optim.AdamW(
        decay_groups(parameters, weight_decay),
        lr=lr,
        betas=tuple(betas),
        eps=eps,
        fused=use_fused or None,
    )
