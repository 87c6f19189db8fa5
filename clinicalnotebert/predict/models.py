"""Predictors of docs/reference.md §6.6 and their LightningModule (docs/reference.md §6.7).

- :class:`NoteSequenceEncoder`: a one-layer BiLSTM over an admission's note vectors; the final
  forward and backward states, concatenated (2H). Sequences are packed, so padding is never read;
  ``read_padding=True`` is the reference's behaviour ([QUIRK]: zero-padded and read, so the
  forward state of a short sequence has also consumed the padding).
- :class:`GRUD`: GRU-D (Che et al.) over the hourly (mask, value, time since measured) features;
  the final hidden state (H).
- :class:`Classifier`: the chosen encoders, each followed by dropout, concatenated, then
  Linear -> Tanh -> Linear(Y). With one encoder it is the reference's Text- / StructClassifier,
  with both its BimodalClassifier.
"""

from __future__ import annotations

import numpy as np
import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from clinicalnotebert.config import PredictConfig
from clinicalnotebert.predict.metrics import validation_score


class NoteSequenceEncoder(nn.Module):
    def __init__(self, note_dim: int, hidden: int, read_padding: bool = False):
        super().__init__()
        self.lstm = nn.LSTM(note_dim, hidden, batch_first=True, bidirectional=True)
        self.read_padding = read_padding
        self.out_dim = 2 * hidden

    def forward(self, notes: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``notes`` (B, L, d) zero-padded, ``lengths`` (B,) >= 1 -> (B, 2H)."""
        # In fp32 also under bf16 autocast: a small layer, and oneDNN has no bf16 kernel for
        # some packed batches on CPU (the whole run would fail on them).
        with torch.autocast(notes.device.type, enabled=False):
            notes = notes.float()
            if self.read_padding:
                _, (h_n, _) = self.lstm(notes)
            else:
                packed = pack_padded_sequence(
                    notes, lengths.cpu(), batch_first=True, enforce_sorted=False
                )
                _, (h_n, _) = self.lstm(packed)
        return torch.cat([h_n[0], h_n[1]], dim=-1)


class GRUDCell(nn.Module):
    """One GRU-D step (docs/reference.md §6.6).

    The input decay uses a diagonal weight (the reference's FilterLinear masks a full matrix with
    the identity, which is the same thing): gamma_x = exp(-max(0, w * delta + b)), per variable.
    """

    def __init__(self, n_vars: int, hidden: int, dropout: float):
        super().__init__()
        bound = 1.0 / np.sqrt(n_vars)
        self.decay_x_weight = nn.Parameter(torch.empty(n_vars).uniform_(-bound, bound))
        self.decay_x_bias = nn.Parameter(torch.empty(n_vars).uniform_(-bound, bound))
        self.decay_h = nn.Linear(n_vars, hidden)
        joint = n_vars + hidden + n_vars
        self.update_gate = nn.Linear(joint, hidden)
        self.reset_gate = nn.Linear(joint, hidden)
        self.candidate = nn.Linear(joint, hidden)
        self.dropout = dropout

    def forward(self, x, x_last, x_mean, mask, delta, h):
        gamma_x = torch.exp(-torch.relu(self.decay_x_weight * delta + self.decay_x_bias))
        x_hat = mask * x + (1 - mask) * (gamma_x * x_last + (1 - gamma_x) * x_mean)
        h = torch.exp(-torch.relu(self.decay_h(delta))) * h
        # The reference draws a fresh recurrent dropout mask for each use at every step.
        drop = [nn.functional.dropout(h, self.dropout, self.training) for _ in range(3)]
        z = torch.sigmoid(self.update_gate(torch.cat([x_hat, drop[0], mask], dim=-1)))
        r = torch.sigmoid(self.reset_gate(torch.cat([x_hat, drop[1], mask], dim=-1)))
        h_tilde = torch.tanh(self.candidate(torch.cat([x_hat, r * drop[2], mask], dim=-1)))
        return (1 - z) * h + z * h_tilde


class GRUD(nn.Module):
    """GRU-D over ``(B, T, 3V)`` features laid out per variable as (mask, value, delta)."""

    def __init__(self, x_mean: np.ndarray, hidden: int, dropout: float):
        super().__init__()
        n_vars = x_mean.shape[-1]
        self.register_buffer("x_mean", torch.as_tensor(x_mean, dtype=torch.float32))
        self.cell = GRUDCell(n_vars, hidden, dropout)
        self.hidden = hidden
        self.out_dim = hidden

    def forward(self, signals: torch.Tensor) -> torch.Tensor:
        mask, values, delta = signals[..., 0::3], signals[..., 1::3], signals[..., 2::3]
        h = signals.new_zeros(signals.shape[0], self.hidden)
        for t in range(signals.shape[1]):
            # The imputed value is forward-filled, so it is also the last observation (x_last).
            x = values[:, t]
            h = self.cell(x, x, self.x_mean[:, t], mask[:, t], delta[:, t], h)
        return h


class Classifier(nn.Module):
    """Text, struct or bimodal classifier: encoders -> dropout -> Linear -> Tanh -> Linear(Y)."""

    def __init__(
        self, n_classes: int, dropout: float, text: NoteSequenceEncoder | None, struct: GRUD | None
    ):
        super().__init__()
        self.text, self.struct = text, struct
        width = sum(e.out_dim for e in (text, struct) if e is not None)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, n_classes))

    def forward(self, batch: dict) -> torch.Tensor:
        parts = []
        if self.text is not None:
            parts.append(self.dropout(self.text(batch["notes"], batch["lengths"])))
        if self.struct is not None:
            parts.append(self.dropout(self.struct(batch["signals"])))
        return self.head(torch.cat(parts, dim=-1))


def build_classifier(
    predict: PredictConfig, n_classes: int, note_dim: int | None, x_mean: np.ndarray | None
) -> Classifier:
    """The classifier of ``predict.modality`` with the configured sizes."""
    hidden_txt, hidden_ts = predict.hidden_txt, predict.hidden_ts
    if (
        predict.hidden_size is not None
    ):  # the tuned size (docs/reference.md §6.7): text and fusion tune H_txt
        if predict.modality == "struct":
            hidden_ts = predict.hidden_size
        else:
            hidden_txt = predict.hidden_size
    text = (
        NoteSequenceEncoder(note_dim, hidden_txt, predict.quirks.read_padding)
        if predict.modality in ("text", "both")
        else None
    )
    struct = (
        GRUD(x_mean, hidden_ts, predict.dropout) if predict.modality in ("struct", "both") else None
    )
    return Classifier(n_classes, predict.dropout, text, struct)


class PredictionModule(pl.LightningModule):
    """Cross-entropy training with Adam; ``val/score`` is AUROC (binary) or accuracy (DRG)."""

    def __init__(self, model: Classifier, task: str, lr: float, weight_decay: float):
        super().__init__()
        self.model, self.task = model, task
        self.lr, self.weight_decay = lr, weight_decay
        self.outputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, batch: dict) -> torch.Tensor:
        return self.model(batch)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss = nn.functional.cross_entropy(self(batch), batch["labels"])
        self.log("train/loss", loss, batch_size=len(batch["labels"]), on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self.outputs.append(
            (torch.softmax(self(batch), dim=-1).detach().cpu(), batch["labels"].cpu())
        )

    def on_validation_epoch_end(self) -> None:
        probabilities = torch.cat([p for p, _ in self.outputs]).double().numpy()
        labels = torch.cat([y for _, y in self.outputs]).numpy()
        self.outputs.clear()
        self.log("val/score", validation_score(self.task, labels, probabilities), prog_bar=True)

    def predict_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return torch.softmax(self(batch), dim=-1)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
