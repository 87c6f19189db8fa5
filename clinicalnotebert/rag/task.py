"""task=rag: how much an encoder, as a retriever, lowers a causal LM's perplexity (docs/rag.md).

Test notes are sampled by patient; the datastore holds only the other patients' chunks (checked:
``patients.overlap`` must be 0). Each LM window is scored three times: alone, with the nearest
chunk prepended, and with the logits averaged over the k nearest chunks. By default the query is
the window's unscored prefix, so it never contains a scored token (``rag.query=window`` is the
reference's query, scored tokens included).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from clinicalnotebert.cache import encoder_fingerprint
from clinicalnotebert.config import Config
from clinicalnotebert.demo import ensure_demo_data
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import write_text_atomic
from clinicalnotebert.models.encoder import load_encoder
from clinicalnotebert.rag.index import EncoderSetup, cached_index, index_spec, search
from clinicalnotebert.rag.lm import (
    DEMO,
    demo_lm,
    lm_reference,
    load_lm,
    max_positions,
    torch_dtype,
)
from clinicalnotebert.rag.notes import evaluation_text, subject_of
from clinicalnotebert.rag.perplexity import (
    PerplexityTotals,
    decoded_queries,
    query_span,
    relative_reduction,
    score_text,
    sliding_windows,
)
from clinicalnotebert.rag.split import Split, load_or_build_split
from clinicalnotebert.utils.runtime import resolve_device

log = logging.getLogger(__name__)

TEST_SUBJECTS_FILE = "test_subjects.txt"


def run(cfg: Config) -> dict:
    rag = cfg.rag
    lm_ref, spec = lm_reference(rag.lm), index_spec(rag.index)
    device = resolve_device(rag.device)
    dtype = torch_dtype(rag.precision, device)
    encoder = encoder_setup(cfg, device, dtype)
    # A named LM is loaded before the data work, so that a bad one fails fast.
    lm = None if lm_ref == DEMO else load_lm(lm_ref, device, dtype)
    ensure_demo_data(cfg.data)
    cache_dir = Path(str(rag.cache_dir)).expanduser()
    split, split_reused = load_or_build_split(cfg.data, rag, cache_dir)
    check_split(split, rag.k)
    log_split(split)
    cached = cached_index(
        split.chunks, split.meta["fingerprint"], encoder, spec, rag.block_rows, rag.seed, cache_dir
    )
    if lm is None:
        lm_dir = demo_lm(split.chunks, split.meta["fingerprint"], rag.demo_lm, cache_dir, rag.seed)
        lm = load_lm(lm_dir, device, dtype)
    scores = evaluate(*lm, split, encoder, cached.index, rag)
    write_test_subjects(Path(cfg.paths.output_dir), split)
    reused = {"split": split_reused, "embeddings": cached.embeddings_reused}
    return rag_metrics(scores, split, {**reused, "index": cached.index_reused}, rag)


@dataclass(frozen=True)
class Scores:
    totals: PerplexityTotals
    windows: int
    retrieved: int  # windows that had chunks prepended


def evaluate(lm_tokenizer, lm_model, split: Split, encoder: EncoderSetup, index, rag) -> Scores:
    """Tokenise the test text once, retrieve for every window, score the windows."""
    text = evaluation_text(split.test_texts, rag.note_separator)
    ids = lm_tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
    windows = sliding_windows(len(ids), rag.max_length, rag.stride)
    neighbours = retrieve(lm_tokenizer, ids, windows, encoder, index, rag)
    totals = score_text(
        lm_model,
        ids,
        windows,
        chunk_tokens(split.chunks, neighbours, lm_tokenizer),
        max_positions(lm_model, rag.lm_max_positions),
        rag.lm_batch_size,
        description="rag: LM windows",
    )
    return Scores(totals, len(windows), sum(1 for row in neighbours if row))


def rag_metrics(scores: Scores, split: Split, reused: dict, rag) -> dict:
    ppl = {name: scores.totals.perplexity(name) for name in ("base", "top1", "topk")}
    return {
        "ppl": ppl,
        "reduction": {
            name: relative_reduction(ppl["base"], ppl[name]) for name in ("top1", "topk")
        },
        "patients": {
            "test": len(split.meta["test_patients"]),
            "datastore": len(split.meta["datastore_patients"]),
            "overlap": len(split.overlap),
        },
        "notes": {"test": len(split.test_texts)},
        "words": {"test": split.meta["test_words"]},
        "chunks": {"datastore": split.meta["chunks"]},
        "tokens": {"total": scores.totals.total_tokens, "scored": scores.totals.scored_tokens},
        "windows": {"total": scores.windows, "retrieved": scores.retrieved},
        "rag": {"query": rag.query},
        "k": rag.k,
        "reused": reused,
    }


def encoder_setup(cfg: Config, device: str, dtype) -> EncoderSetup:
    """The retriever: fingerprinted (its files), loaded, then cast for the device."""
    fingerprint = encoder_fingerprint(cfg.encoder.path)
    tokenizer, model = load_encoder(cfg.encoder.path, "encoder.path", device)
    rag = cfg.rag
    return EncoderSetup(
        tokenizer,
        model.to(dtype),
        fingerprint,
        rag.pooling,
        rag.encoder_max_length,
        rag.encode_batch_size,
    )


def check_split(split: Split, k: int) -> None:
    """Leakage guard: no test patient may have a chunk in the datastore."""
    if split.overlap:
        raise RuntimeError(
            f"rag: {len(split.overlap)} test patients have notes in the datastore; "
            "the split is broken (delete the cached split and report this)"
        )
    if split.meta["chunks"] < k:
        raise UserError(f"rag.k ({k}) is larger than the datastore ({split.meta['chunks']} chunks)")


def log_split(split: Split) -> None:
    meta = split.meta
    log.info(
        "rag: %d test notes (%d words) of %d patients; datastore: %d chunks of %d other patients",
        len(split.test_texts),
        meta["test_words"],
        len(meta["test_patients"]),
        meta["chunks"],
        len(meta["datastore_patients"]),
    )


def retrieve(lm_tokenizer, ids, windows, encoder: EncoderSetup, index, rag) -> list[list[int]]:
    """Each window's neighbour chunk ids, nearest first; none for a query shorter than
    ``rag.min_query_tokens`` (the first window's prefix is one token)."""
    spans = [query_span(window, rag.query) for window in windows]
    asked = [i for i, (start, stop) in enumerate(spans) if stop - start >= rag.min_query_tokens]
    queries = decoded_queries(lm_tokenizer, ids, [spans[i] for i in asked])
    vectors = encoder.embed(queries, description="rag: encode queries")
    found = search(index, vectors, rag.k, rag.search_batch_size)
    neighbours: list[list[int]] = [[] for _ in windows]
    for window, row in zip(asked, found, strict=True):
        neighbours[window] = [int(chunk) for chunk in row if chunk >= 0]
    return neighbours


def chunk_tokens(chunks, neighbours: list[list[int]], lm_tokenizer) -> list[list[list[int]]]:
    """The LM token ids of each window's neighbour chunks (each chunk tokenised once)."""
    wanted = sorted({chunk for row in neighbours for chunk in row})
    if not wanted:
        return [[] for _ in neighbours]
    texts = list(chunks.select(wanted)["text"])
    encoded = lm_tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    tokens = dict(zip(wanted, encoded, strict=True))
    return [[tokens[chunk] for chunk in row] for row in neighbours]


def write_test_subjects(out_dir: Path, split: Split) -> None:
    """The test patients' subject ids, one per line: usable as ``prepare.exclude_subjects`` to
    keep them out of pretraining too."""
    subjects = sorted({subject_of(p) for p in split.meta["test_patients"]})
    write_text_atomic(out_dir / TEST_SUBJECTS_FILE, "".join(f"{s}\n" for s in subjects))
