"""Unsupervised SimCSE as a LightningModule (docs/reference.md §3).

The same batch is encoded twice in train mode, so dropout is the only difference between the
two views; ``z = tanh(W h_cls + b)``; ``sim[i, j] = cos(z1_i, z2_j) / temperature``;
cross-entropy with the diagonal as the target.

Under DDP the embeddings of every process are gathered, so the whole global batch serves as
negatives; only the local slice carries gradient. Each process then computes the same global
loss, but its backward pass reaches only its own slice: the gradients summed over processes
are the global gradient, and DDP averages them, so the loss is scaled by the world size for
backward to make one DDP step equal a single-process step on the concatenated batch.

``grad_cache`` (GradCache, Gao et al. 2021) makes one optimizer step's whole batch one
contrastive batch at a fixed memory cost: embed it in chunks without a graph, take the loss
gradient with respect to the embeddings, then re-encode each chunk (same dropout masks,
restored RNG) and back-propagate that cached gradient through it.
"""

from __future__ import annotations

import contextlib
from collections import deque

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from clinicalnotebert.config import SimCSEConfig
from clinicalnotebert.utils.optim import adamw, warmup_steps


def contrastive_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """In-batch InfoNCE: row i of ``z1`` must pick row i of ``z2`` among all rows."""
    logits = F.normalize(z1, dim=-1) @ F.normalize(z2, dim=-1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(z1), device=z1.device))


def with_local_gradient(gathered: torch.Tensor, local: torch.Tensor, rank: int) -> torch.Tensor:
    """Concatenate ``gathered`` ([world, batch, dim], no graph) with ``local`` put back at ``rank``."""
    parts = list(gathered.unbind(0))
    parts[rank] = local
    return torch.cat(parts)


class RngState:
    """The CPU (and current CUDA device) RNG state, to replay a forward pass's dropout masks."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self.cpu_state = torch.get_rng_state()
        self.cuda_state = torch.cuda.get_rng_state(device) if self.cuda else None
        self.device = device

    @contextlib.contextmanager
    def replayed(self):
        devices = [self.device] if self.cuda else []
        with torch.random.fork_rng(devices=devices):
            torch.set_rng_state(self.cpu_state)
            if self.cuda:
                torch.cuda.set_rng_state(self.cuda_state, self.device)
            yield


def set_dropout(module: nn.Module, probability: float) -> None:
    """Set every dropout rate (hidden and attention) of ``module`` to ``probability``."""
    for child in module.modules():
        if isinstance(child, nn.Dropout):
            child.p = probability


class SimCSEModule(pl.LightningModule):
    def __init__(self, encoder: nn.Module, settings: SimCSEConfig):
        super().__init__()
        self.encoder = encoder
        self.settings = settings
        hidden = encoder.config.hidden_size
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh())
        nn.init.normal_(self.mlp[0].weight, std=getattr(encoder.config, "initializer_range", 0.02))
        nn.init.zeros_(self.mlp[0].bias)
        # The pooler (if any) is unused by SimCSE; frozen so DDP does not wait for its gradient.
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler.requires_grad_(False)
        # Dropout is SimCSE's noise: the encoder must train in train mode (loaders give eval mode).
        encoder.train()
        self.automatic_optimization = not settings.grad_cache
        # micro-batches per optimizer step, averaged into ``last_loss``
        window = 1 if settings.grad_cache else settings.accumulate
        self.recent_losses: deque[float] = deque(maxlen=max(1, window))

    @property
    def last_loss(self) -> float | None:
        """Mean loss of the last optimizer step's micro-batches."""
        return sum(self.recent_losses) / len(self.recent_losses) if self.recent_losses else None

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``tanh(W h_cls + b)`` for each row."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.mlp(hidden[:, 0])

    def embed_views(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Both dropout views of the batch in one forward pass of the doubled batch."""
        ids, mask = batch["input_ids"], batch["attention_mask"]
        z = self.embed(torch.cat([ids, ids]), torch.cat([mask, mask]))
        return z[: len(ids)], z[len(ids) :]

    def world(self) -> tuple[int, int]:
        if not self.settings.gather or self._trainer is None:
            return 0, 1
        return self.global_rank, self.trainer.world_size

    def global_views(self, z1: torch.Tensor, z2: torch.Tensor):
        """The views of the whole global batch, with gradient only through the local rows."""
        rank, world = self.world()
        if world == 1:
            return z1, z2
        z1_all, z2_all = self.all_gather(torch.stack([z1, z2]).detach()).unbind(1)
        return with_local_gradient(z1_all, z1, rank), with_local_gradient(z2_all, z2, rank)

    def global_loss(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        return contrastive_loss(*self.global_views(z1, z2), self.settings.temperature)

    def training_step(self, batch: dict, batch_idx: int):
        if self.settings.grad_cache:
            return self.cached_step(batch)
        loss = self.global_loss(*self.embed_views(batch))
        self.record(loss)
        return loss * self.world()[1]

    def record(self, loss: torch.Tensor) -> None:
        self.recent_losses.append(float(loss.detach()))
        self.log("train/loss", loss.detach(), prog_bar=True, batch_size=1)

    def chunks(self, batch: dict) -> list[dict]:
        size = self.settings.chunk_size
        return [
            {key: value[start : start + size] for key, value in batch.items()}
            for start in range(0, len(batch["input_ids"]), size)
        ]

    def cached_step(self, batch: dict) -> torch.Tensor:
        """GradCache: one optimizer step on the whole batch with chunk-sized activations."""
        optimizer, scheduler = self.optimizers(), self.lr_schedulers()
        chunks = self.chunks(batch)
        states, views = [], []
        with torch.no_grad():
            for chunk in chunks:
                states.append(RngState(self.device))
                views.append(self.embed_views(chunk))
        z1 = torch.cat([v[0] for v in views]).requires_grad_()
        z2 = torch.cat([v[1] for v in views]).requires_grad_()
        loss = self.global_loss(z1, z2)
        grad1, grad2 = torch.autograd.grad(loss * self.world()[1], [z1, z2])
        sizes = [len(chunk["input_ids"]) for chunk in chunks]
        pieces = zip(chunks, states, grad1.split(sizes), grad2.split(sizes), strict=True)
        for index, (chunk, state, g1, g2) in enumerate(pieces):
            with state.replayed(), self.gradient_sync(index == len(chunks) - 1):
                c1, c2 = self.embed_views(chunk)
                self.manual_backward(torch.cat([c1, c2]), gradient=torch.cat([g1, g2]))
        if self.settings.gradient_clip_val:
            self.clip_gradients(optimizer, self.settings.gradient_clip_val, "norm")
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        self.record(loss)
        return loss.detach()

    def gradient_sync(self, last_chunk: bool):
        """DDP all-reduces once, after the last chunk; earlier chunks accumulate locally."""
        wrapped = self.trainer.strategy.model
        if last_chunk or not hasattr(wrapped, "no_sync"):
            return contextlib.nullcontext()
        return wrapped.no_sync()

    def configure_optimizers(self):
        from transformers import get_linear_schedule_with_warmup

        s = self.settings
        optimizer = adamw(
            self.parameters(),
            lr=s.lr,
            weight_decay=s.weight_decay,
            eps=s.adam_epsilon,
            device_type=self.device.type,
        )
        warmup = warmup_steps(s.warmup_ratio, s.max_steps)
        scheduler = get_linear_schedule_with_warmup(optimizer, warmup, s.max_steps)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def mlp_state(self) -> dict[str, torch.Tensor]:
        """The head's ``weight`` and ``bias`` (detached, on the CPU) for export and ``cls_mlp``."""
        return {
            "weight": self.mlp[0].weight.detach().cpu(),
            "bias": self.mlp[0].bias.detach().cpu(),
        }
