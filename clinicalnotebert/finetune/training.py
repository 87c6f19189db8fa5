"""The training loop shared by every fine-tuning task: heads, batching, AdamW, prediction.

Features are dicts of model inputs (``input_ids``, optional ``token_type_ids``) plus targets
(``labels``, or ``start_positions`` / ``end_positions``); padding happens per batch.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from clinicalnotebert.errors import UserError
from clinicalnotebert.hub import from_pretrained_quietly
from clinicalnotebert.models import IGNORE_INDEX
from clinicalnotebert.models.encoder import length_sorted_batches
from clinicalnotebert.utils.optim import decay_groups, warmup_steps
from clinicalnotebert.utils.progress import progress
from clinicalnotebert.utils.runtime import seed_everything

log = logging.getLogger(__name__)

MODEL_INPUTS = ("input_ids", "token_type_ids")


@dataclass(frozen=True)
class Settings:
    """One point of the grid."""

    lr: float
    epochs: int
    batch_size: int

    @property
    def tag(self) -> str:
        return f"lr{self.lr:g}_ep{self.epochs}_bs{self.batch_size}"

    def echo(self) -> dict[str, Any]:
        return {"lr": self.lr, "epochs": self.epochs, "batch_size": self.batch_size}


@dataclass
class Outcome:
    """A trained configuration: its metrics, how to export its heads, its test predictions."""

    metrics: dict[str, Any]
    export: Callable[[Path], None]
    predictions: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What every task needs besides its data: the ``finetune`` config, encoder, device, seed."""

    ft: Any
    encoder: str
    device: str
    seed: int
    on_step: Callable[[str, int, float], None] | None = None  # (what, step, loss)


def label_names(labels: Sequence[str]) -> dict:
    """The head config's label fields, so the exported model names its classes."""
    return {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: i for i, label in enumerate(labels)},
    }


def load_head(auto_class, ctx: Context, **config):
    """A task head on the encoder (new head weights seeded), never with remote code."""
    seed_everything(ctx.seed)
    try:
        model, info = from_pretrained_quietly(
            auto_class, ctx.encoder, ignore_mismatched_sizes=True, **config
        )
    except (OSError, ValueError) as exc:
        raise UserError(
            f"encoder.path: cannot load '{ctx.encoder}' for fine-tuning: {exc}"
        ) from None
    log.info("new %s weights: %s", type(model).__name__, ", ".join(info["missing_keys"]) or "none")
    return model.to(ctx.device)


def save_head(model, tokenizer, directory: Path) -> None:
    """Hugging Face layout (safetensors + tokenizer files), loadable by the Auto classes."""
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


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


def build_optimizer(model, settings: Settings, ft) -> torch.optim.Optimizer:
    """AdamW; biases and norm weights carry no weight decay (as Hugging Face's Trainer)."""
    groups = decay_groups(model.parameters(), ft.weight_decay)
    return torch.optim.AdamW(groups, lr=settings.lr, eps=ft.adam_epsilon)


def build_scheduler(optimizer, ft, total_steps: int):
    """``finetune.scheduler``: ``linear`` (warmup, then linear decay) or the reference's
    ``constant`` [QUIRK]: in Hugging Face ``constant`` ignores ``warmup_ratio``."""
    from transformers import get_scheduler

    try:
        return get_scheduler(
            ft.scheduler,
            optimizer,
            num_warmup_steps=warmup_steps(ft.warmup_ratio, total_steps),
            num_training_steps=total_steps,
        )
    except ValueError as exc:
        raise UserError(f"finetune.scheduler '{ft.scheduler}': {exc}") from None


def train_model(
    model, features: Sequence[dict], settings: Settings, ctx: Context, pad_id: int, what: str
) -> float:
    """Fine-tune ``model`` in place; returns the mean training loss over all steps."""
    ft = ctx.ft
    rng = np.random.default_rng(ctx.seed)
    lengths = [len(f["input_ids"]) for f in features]
    steps_per_epoch = math.ceil(len(features) / settings.batch_size)
    optimizer = build_optimizer(model, settings, ft)
    scheduler = build_scheduler(optimizer, ft, steps_per_epoch * settings.epochs)
    model.train()
    losses = []
    for epoch in range(1, settings.epochs + 1):
        batches = length_grouped_batches(lengths, settings.batch_size, rng, ft.length_group_factor)
        for index in progress(batches, f"{what}: epoch {epoch}/{settings.epochs}"):
            batch = collate([features[i] for i in index], pad_id)
            loss = model(**{k: v.to(ctx.device) for k, v in batch.items()}).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), ft.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            if ctx.on_step is not None:
                ctx.on_step(what, len(losses), losses[-1])
    model.eval()
    return float(np.mean(losses)) if losses else float("nan")


@torch.inference_mode()
def predict_logits(
    model,
    features: Sequence[dict],
    ctx: Context,
    pad_id: int,
    outputs: tuple[str, ...],
    per_token: bool,
) -> list[tuple[np.ndarray, ...]]:
    """Per feature (input order), the named model outputs as float32 arrays; ``per_token``
    outputs (one row per position) are cut to the feature's own length."""
    results: list = [None] * len(features)
    lengths = [len(f["input_ids"]) for f in features]
    for index in length_sorted_batches(lengths, ctx.ft.eval_batch_size):
        inputs = [{k: features[i][k] for k in MODEL_INPUTS if k in features[i]} for i in index]
        batch = collate(inputs, pad_id)
        result = model(**{k: v.to(ctx.device) for k, v in batch.items()})
        arrays = [result[name].float().cpu().numpy() for name in outputs]
        for row, i in enumerate(index):
            results[i] = tuple(a[row, : lengths[i]] if per_token else a[row] for a in arrays)
    return results
