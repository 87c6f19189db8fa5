"""Sliding-window perplexity, with and without retrieved chunks (docs/reference.md §5.4).

The windows are Hugging Face's standard strided evaluation: for ``begin`` in
``range(0, L, stride)``, ``end = min(begin + max_length, L)``, and the tokens from the previous
window's end to ``end`` are scored (in the first window every token but the first, which has no
context). ``PPL = exp(sum of token cross-entropies / L)``, L the whole text's length, as the
reference computes it.

With retrieval, a chunk's LM tokens are prepended to the window (no separator) and the input is
left-truncated to the LM's positions; the same tokens are scored. ``top-1`` uses the nearest
chunk, ``top-k`` averages the LM's *logits* over the k augmented inputs before the
cross-entropy. Windows are run in batches; only the scored positions' logits are computed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from clinicalnotebert.errors import UserError
from clinicalnotebert.utils.progress import progress

QUERY_MODES = ("prefix", "window")
# A right-padded position never influences a real one under a causal mask; any id will do.
PAD_ID = 0


@dataclass(frozen=True)
class Window:
    begin: int
    end: int
    scored: int  # the last `scored` tokens of ids[begin:end] are scored

    @property
    def score_start(self) -> int:
        return self.end - self.scored


def check_window(max_length: int, stride: int) -> None:
    if not 0 < stride <= max_length:
        raise UserError(
            f"rag.stride ({stride}) must be between 1 and rag.max_length ({max_length})"
        )


def check_query_mode(mode: str) -> None:
    if mode not in QUERY_MODES:
        raise UserError(f"rag.query '{mode}' is not one of {', '.join(QUERY_MODES)}")


def sliding_windows(length: int, max_length: int, stride: int) -> list[Window]:
    """The reference's windows over ``length`` tokens.

    A window scores ``min(end - prev_end, window length - 1)`` tokens: its new tokens, less the
    first token of the text (nothing predicts it), exactly the reference's two logit slices.
    """
    check_window(max_length, stride)
    if length < 2:
        raise UserError("rag: the test text has fewer than 2 LM tokens; nothing to score")
    windows, prev_end = [], 0
    for begin in range(0, length, stride):
        end = min(begin + max_length, length)
        windows.append(Window(begin, end, min(end - prev_end, end - begin - 1)))
        prev_end = end
        if end == length:
            break
    return windows


def query_span(window: Window, mode: str) -> tuple[int, int]:
    """The token range a window's retrieval query is made of.

    ``prefix``: the window's unscored head, so the query never holds a scored token;
    ``window``: the whole window, scored tokens included (the reference).
    """
    check_query_mode(mode)
    return (window.begin, window.score_start) if mode == "prefix" else (window.begin, window.end)


def augmented(chunk_ids: Sequence[int], window_ids: Sequence[int], max_positions: int) -> list[int]:
    """The chunk prepended to the window, left-truncated to the LM's positions."""
    return [*chunk_ids, *window_ids][-max_positions:]


@torch.inference_mode()
def scored_logits(model, sequences: Sequence[Sequence[int]], scored: Sequence[int]) -> list:
    """For each sequence, the float32 logits (n, vocab) that predict its last ``n`` tokens.

    One right-padded batch; ``logits_to_keep`` masks the positions so that only those rows of
    the (large) vocabulary projection are computed.
    """
    device = next(model.parameters()).device
    width = max(len(seq) for seq in sequences)
    input_ids = torch.full((len(sequences), width), PAD_ID, dtype=torch.long)
    keep = torch.zeros((len(sequences), width), dtype=torch.bool)
    for row, (seq, count) in enumerate(zip(sequences, scored, strict=True)):
        input_ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        keep[row, len(seq) - 1 - count : len(seq) - 1] = True
    logits = model(input_ids=input_ids.to(device), logits_to_keep=keep.to(device)).logits
    return list(logits.float().split(list(scored)))


def mean_logits_nll(logits: Sequence[torch.Tensor], targets: torch.Tensor) -> float:
    """Summed cross-entropy of the logits averaged over the inputs (top-k, docs/reference.md §5.4)."""
    return F.cross_entropy(torch.stack(list(logits)).mean(0), targets, reduction="sum").item()


@dataclass
class WindowLogits:
    """The scored logits of one window's inputs: the plain window, then one per chunk."""

    inputs: int
    logits: list = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.logits) == self.inputs

    def nll(self, targets: torch.Tensor) -> tuple[float, float, float]:
        """Summed NLL without retrieval, with the nearest chunk, and top-k averaged.
        A window without chunks scores the same under all three."""
        base, *with_chunks = self.logits
        with_chunks = with_chunks or [base]
        return (
            mean_logits_nll([base], targets),
            mean_logits_nll(with_chunks[:1], targets),
            mean_logits_nll(with_chunks, targets),
        )


@dataclass
class PerplexityTotals:
    total_tokens: int  # L, the divisor
    nll: dict = field(default_factory=lambda: {"base": 0.0, "top1": 0.0, "topk": 0.0})
    scored_tokens: int = 0

    def add(self, scored: int, nll: tuple[float, float, float]) -> None:
        self.scored_tokens += scored
        for name, value in zip(("base", "top1", "topk"), nll, strict=True):
            self.nll[name] += value

    def perplexity(self, name: str) -> float:
        return math.exp(self.nll[name] / self.total_tokens)


def window_inputs(
    ids: Sequence[int], window: Window, chunks: Sequence[Sequence[int]], max_positions: int
) -> list[list[int]]:
    window_ids = list(ids[window.begin : window.end])
    return [window_ids, *(augmented(chunk, window_ids, max_positions) for chunk in chunks)]


def score_text(
    model,
    ids: Sequence[int],
    windows: Sequence[Window],
    chunks_per_window: Sequence[Sequence[Sequence[int]]],
    max_positions: int,
    batch_size: int,
    description: str | None = None,
) -> PerplexityTotals:
    """Sum the three NLLs over all windows; inputs run ``batch_size`` sequences at a time."""
    if max(w.end - w.begin for w in windows) > max_positions:
        raise UserError(f"rag.max_length is larger than the LM's {max_positions} positions")
    totals = PerplexityTotals(len(ids))
    jobs = [
        (w, seq)
        for w, window in enumerate(windows)
        for seq in window_inputs(ids, window, chunks_per_window[w], max_positions)
    ]
    pending: dict[int, WindowLogits] = {}
    batches = [jobs[i : i + batch_size] for i in range(0, len(jobs), batch_size)]
    if description:
        batches = progress(batches, description, total=len(jobs), advance=len)
    for batch in batches:
        counts = [windows[w].scored for w, _ in batch]
        batch_logits = scored_logits(model, [sequence for _, sequence in batch], counts)
        for (w, _), logits in zip(batch, batch_logits, strict=True):
            entry = pending.setdefault(w, WindowLogits(1 + len(chunks_per_window[w])))
            entry.logits.append(logits)
            if entry.complete:
                finish_window(totals, pending.pop(w), ids, windows[w])
    return totals


def finish_window(totals: PerplexityTotals, entry: WindowLogits, ids, window: Window) -> None:
    device = entry.logits[0].device
    targets = torch.tensor(list(ids[window.score_start : window.end]), device=device)
    totals.add(window.scored, entry.nll(targets))


def relative_reduction(base: float, with_retrieval: float) -> float:
    """``(base - rag) / base * 100``: the percentage of perplexity retrieval removes."""
    return (base - with_retrieval) / base * 100.0


def decoded_queries(tokenizer, ids: Sequence[int], spans: Iterable[tuple[int, int]]) -> list[str]:
    return [tokenizer.decode(list(ids[start:stop])) for start, stop in spans]
