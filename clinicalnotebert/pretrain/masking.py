"""Whole-word masking (docs/reference.md §2.1), vectorised over the batch.

Per sequence: the words are the non-special tokens, a ``##`` piece joining the word before it.
The budget is ``min(max_predictions, max(1, round(len(tokens) * p)))`` with the special tokens
counted in ``len``. Words are visited in a random order and each is masked whole if it still
fits the budget (greedy, as the reference collator does). Masked positions become ``[MASK]``
(80%), a random token (10%) or stay unchanged (10%); labels are -100 everywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from clinicalnotebert.config import MaskingConfig
from clinicalnotebert.models import IGNORE_INDEX


class WholeWordMasker:
    """Pads a batch of token id sequences and masks whole words; draws only from ``rng``."""

    def __init__(
        self, tokenizer, settings: MaskingConfig, probability: float, pad_to_multiple_of: int = 1
    ):
        """``probability``: the share of a sequence's tokens (specials counted) to predict
        (``objective.mlm_probability``); ``settings``: how chosen positions are replaced."""
        vocab = tokenizer.get_vocab()
        size = max(len(tokenizer), max(vocab.values()) + 1)
        self.settings, self.probability = settings, probability
        self.pad_to_multiple_of = max(1, pad_to_multiple_of)
        self.pad_id = tokenizer.pad_token_id
        self.mask_id = tokenizer.mask_token_id
        self.is_special = np.zeros(size, dtype=bool)
        self.is_special[tokenizer.all_special_ids] = True
        self.is_continuation = np.zeros(size, dtype=bool)
        for token, token_id in vocab.items():
            self.is_continuation[token_id] = token.startswith("##")
        self.random_ids = np.flatnonzero(~self.is_special)  # replacement draws never give specials

    def pad(self, sequences: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, lengths)``: int64 ids padded to the longest (rounded up to the multiple)."""
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        width = int(-(-lengths.max() // self.pad_to_multiple_of) * self.pad_to_multiple_of)
        ids = np.full((len(sequences), width), self.pad_id, dtype=np.int64)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
        return ids, lengths

    def __call__(
        self, sequences: Sequence[np.ndarray], rng: np.random.Generator
    ) -> dict[str, torch.Tensor | int]:
        """Tensors ``input_ids``, ``attention_mask``, ``labels``, ``masked_positions`` (flat
        indices of the predicted positions) and the token counts ``real_tokens`` / ``padded_tokens``."""
        ids, lengths = self.pad(sequences)
        real = np.arange(ids.shape[1]) < lengths[:, None]
        if ids.max() >= len(self.is_special):
            raise ValueError(f"token id {ids.max()} is outside the tokenizer's vocabulary")
        masked = self.masked_tokens(ids, real, lengths, rng)
        labels = np.where(masked, ids, IGNORE_INDEX)
        inputs = self.replace(ids, masked, rng)
        return {
            "input_ids": torch.from_numpy(inputs),
            "attention_mask": torch.from_numpy(real.astype(np.int64)),
            "labels": torch.from_numpy(labels),
            "masked_positions": torch.from_numpy(np.flatnonzero(masked)),
            "real_tokens": int(lengths.sum()),
            "padded_tokens": int(ids.size),
        }

    def masked_tokens(
        self, ids: np.ndarray, real: np.ndarray, lengths: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Boolean (batch, width): the positions chosen for prediction, whole words only."""
        candidate = real & ~self.is_special[ids]
        follows_candidate = np.zeros_like(candidate)
        follows_candidate[:, 1:] = candidate[:, :-1]
        starts = candidate & ~(self.is_continuation[ids] & follows_candidate)
        # Number the words over the whole batch: word w of row r gets id offset[r] + w.
        word_of_token = np.cumsum(starts.ravel()).reshape(ids.shape) - 1
        words_per_row = starts.sum(axis=1)
        word_row = np.repeat(np.arange(len(ids)), words_per_row)
        word_size = np.bincount(word_of_token[candidate], minlength=len(word_row))
        chosen = self.choose_words(word_row, word_size, words_per_row, lengths, rng)
        return candidate & chosen[np.where(candidate, word_of_token, 0)]

    def choose_words(self, word_row, word_size, words_per_row, lengths, rng) -> np.ndarray:
        """Greedy in a random order per row: take a word if it fits the row's remaining budget."""
        p = self.settings
        budget = np.minimum(p.max_predictions, np.maximum(1, np.round(lengths * self.probability)))
        order = np.lexsort((rng.random(len(word_row)), word_row))  # rows in turn, shuffled within
        rank = np.arange(len(word_row)) - np.repeat(
            np.cumsum(words_per_row) - words_per_row, words_per_row
        )
        # (row, k) -> the k-th word of that row in the shuffled order; -1 where a row has fewer.
        table = np.full((len(lengths), max(int(words_per_row.max(initial=0)), 1)), -1)
        table[word_row[order], rank] = order
        chosen = np.zeros(len(word_row), dtype=bool)
        remaining = budget.astype(np.int64)
        for column in table.T:
            present = column >= 0
            size = np.where(present, word_size[column], 0)
            fits = present & (size <= remaining)
            chosen[column[fits]] = True
            remaining -= np.where(fits, size, 0)
            if not remaining.any():
                break
        return chosen

    def replace(self, ids: np.ndarray, masked: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """80% [MASK], 10% a random non-special token, 10% unchanged (with the default ratios)."""
        out = ids.copy()
        positions = np.flatnonzero(masked)
        draw = rng.random(len(positions))
        to_mask = draw < self.settings.mask_token_ratio
        to_random = ~to_mask & (
            draw < self.settings.mask_token_ratio + self.settings.random_token_ratio
        )
        flat = out.ravel()
        flat[positions[to_mask]] = self.mask_id
        flat[positions[to_random]] = rng.choice(self.random_ids, size=int(to_random.sum()))
        return out
