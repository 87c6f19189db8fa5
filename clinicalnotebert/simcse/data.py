"""SimCSE training lines: one length variant of a prepared corpus, sampled as the reference does.

The reference shuffles all lines of the variant with the training seed and keeps the first
``per_device x accumulate x max_steps x fold`` of them (docs/reference.md §3). Here the count is also
multiplied by the number of processes, since under DDP every process draws its own batches.
Lines are the corpus ``input_ids`` when the encoder's tokenizer is the corpus tokenizer, else the
``text`` column re-tokenised with the encoder's tokenizer (truncated to the variant's maximum).
"""

from __future__ import annotations

import json
import logging

import torch
from torch.utils.data import DataLoader, Dataset

from clinicalnotebert.corpus.store import corpus_tokenizer, load_variant
from clinicalnotebert.models.tokenizer import load_tokenizer

log = logging.getLogger(__name__)


def lines_needed(per_device: int, world_size: int, accumulate: int, steps: int, fold: int) -> int:
    return per_device * world_size * accumulate * steps * fold


def tokenizer_signature(tokenizer) -> tuple:
    """What decides the ids a text gets: vocabulary, normalizer, pre-tokenizer, special ids."""
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    return (
        json.dumps(spec.get("model"), sort_keys=True),
        json.dumps(spec.get("normalizer"), sort_keys=True),
        json.dumps(spec.get("pre_tokenizer"), sort_keys=True),
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
    )


def same_tokenizer(corpus_path, tokenizer) -> bool:
    corpus_tok = load_tokenizer(corpus_tokenizer(corpus_path), "corpus.path (its tokenizer)")
    return tokenizer_signature(corpus_tok) == tokenizer_signature(tokenizer)


def first_distinct(lines, count: int, chunk: int = 10_000) -> list[int]:
    """Positions of the first ``count`` lines whose text has not been seen before."""
    seen: set[int] = set()
    kept: list[int] = []
    for start in range(0, len(lines), chunk):
        for offset, text in enumerate(lines[start : start + chunk]["text"]):
            digest = hash(text)
            if digest not in seen:
                seen.add(digest)
                kept.append(start + offset)
                if len(kept) == count:
                    return kept
    return kept


def simcse_lines(
    corpus_path,
    variant: str,
    tokenizer,
    count: int,
    max_tokens: int,
    seed: int,
    num_proc: int = 1,
    distinct: bool = False,
):
    """A datasets.Dataset with one ``input_ids`` column: ``count`` shuffled lines of ``variant``.

    ``distinct`` skips repeats of a text already taken: boilerplate lines (discharge
    instructions, medication sigs) otherwise meet their own copies as in-batch negatives.
    """
    lines = load_variant(corpus_path, variant).shuffle(seed=seed, keep_in_memory=True)
    keep = first_distinct(lines, count) if distinct else range(min(count, len(lines)))
    lines = lines.select(keep, keep_in_memory=True)
    if len(lines) < count:
        log.info("simcse: the %s variant has %d lines (%d wanted)", variant, len(lines), count)
    if same_tokenizer(corpus_path, tokenizer):
        return lines.select_columns(["input_ids"])

    def tokenize(batch):
        encoded = tokenizer(batch["text"], truncation=True, max_length=max_tokens)
        return {"input_ids": encoded["input_ids"]}

    log.info("simcse: re-tokenising %d %s lines with the encoder's tokenizer", len(lines), variant)
    return lines.map(
        tokenize,
        batched=True,
        remove_columns=lines.column_names,
        keep_in_memory=True,
        num_proc=num_proc if num_proc > 1 else None,
        desc="simcse: tokenise",
    )


class TokenLines(Dataset):
    """Index access to the ``input_ids`` of a datasets.Dataset as plain lists."""

    def __init__(self, lines):
        self.lines = lines.with_format(None)

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index: int) -> list[int]:
        return self.lines[int(index)]["input_ids"]


class PadCollator:
    """Right-pad id lists to the longest (rounded up to ``multiple``), with the attention mask.

    Rows longer than ``max_tokens`` keep their first ``max_tokens - 1`` ids and their last one
    (``[SEP]``), so a lower ``simcse.max_tokens`` applies to corpus ids too.
    """

    def __init__(self, pad_id: int, multiple: int = 1, max_tokens: int | None = None):
        self.pad_id = pad_id
        self.multiple = max(1, multiple)
        self.max_tokens = max_tokens

    def truncate(self, row: list[int]) -> list[int]:
        if self.max_tokens is None or len(row) <= self.max_tokens:
            return row
        return row[: self.max_tokens - 1] + row[-1:]

    def __call__(self, rows: list[list[int]]) -> dict[str, torch.Tensor]:
        rows = [self.truncate(row) for row in rows]
        longest = max(len(row) for row in rows)
        width = -(-longest // self.multiple) * self.multiple
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        return {"input_ids": ids, "attention_mask": mask}


def simcse_loader(lines, collator: PadCollator, batch_size: int, seed: int, workers: int):
    """Shuffled batches (Lightning swaps in a DistributedSampler under DDP)."""
    return DataLoader(
        TokenLines(lines),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        collate_fn=collator,
        num_workers=workers,
        drop_last=False,
    )
