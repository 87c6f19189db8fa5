"""task=prepare: raw notes -> ``corpus/<variant>/<note_type>/`` + ``meta.json`` (docs/reference.md §1)."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path

from clinicalnotebert.config import Config
from clinicalnotebert.corpus.note_types import NOTE_TYPES
from clinicalnotebert.corpus.prepare import (
    VARIANTS,
    CorpusWriter,
    NoteFilter,
    PrepareStats,
    batched,
    init_worker,
    kept_notes,
    merge_corpora,
    note_type_id,
    parse_shard,
    process_notes,
    read_subject_list,
    shard_corpora,
    shard_notes,
    write_note_results,
)
from clinicalnotebert.corpus.readers import missing_note_tables, note_sources
from clinicalnotebert.corpus.tokenizer import tokenizer_for_run
from clinicalnotebert.corpus.variants import Band, SegmentGrouper
from clinicalnotebert.demo import ensure_demo_data
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import atomic_dir, write_json_atomic
from clinicalnotebert.utils.parallel import ordered_map
from clinicalnotebert.utils.progress import progress

log = logging.getLogger(__name__)


def run(cfg: Config) -> dict:
    prep = cfg.prepare
    out_dir = Path(cfg.paths.output_dir)
    if prep.merge_from:
        meta = merge_corpora(shard_corpora(prep.merge_from), out_dir / "corpus")
        return {**meta["stats"], "shards": len(meta["merged_from"])}
    ensure_demo_data(cfg.data)
    sources = note_sources(cfg.data)
    missing = missing_note_tables(cfg.data)
    excluded = read_subject_list(prep.exclude_subjects)
    shard = parse_shard(prep.shard)
    bands = {v: (prep.variants[v].min_tokens, prep.variants[v].max_tokens) for v in VARIANTS}
    tokenizer, tokenizer_ref = tokenizer_for_run(cfg.tokenizer, prep, out_dir, sources, excluded)
    stats = PrepareStats()
    started = time.perf_counter()

    def stream():
        return kept_notes(sources, NoteFilter(prep, excluded), stats)

    notes = shard_notes(stream, *shard, stats) if shard else stream()
    units = batched(((note_type_id(n), n.text) for n in counted(notes, stats)), prep.chunk_size)
    results = ordered_map(
        process_notes,
        units,
        num_proc=prep.num_proc,
        initializer=init_worker,
        initargs=(tokenizer_ref.resolved, prep.sentence_splitter, bands),
    )
    segment_band = Band(*bands["segment"])
    reset_every = prep.quirks.map_batch_size if prep.quirks.segment_buffer_per_batch else None

    def grouper():
        return SegmentGrouper(segment_band, prep.min_sentence_tokens, reset_every)

    with atomic_dir(out_dir / "corpus") as tmp:
        writer = CorpusWriter(
            tmp, tokenizer.cls_token_id, tokenizer.sep_token_id, len(tokenizer), stats
        )
        write_note_results(progress(results, "prepare: notes", advance=len), writer, grouper)
        if stats.notes_kept == 0:
            raise UserError(f"no usable notes in the input ({dropped_summary(stats)})")
        writer.close()
        meta = corpus_meta(cfg, bands, tokenizer_ref.recorded, len(tokenizer), stats, shard)
        write_json_atomic(tmp / "meta.json", meta)
    seconds = time.perf_counter() - started
    print_summary(stats, missing)
    return {
        **stats.metrics(),
        "sources": {"missing": len(missing)},
        "seconds": round(seconds, 3),
        "throughput": throughput(stats, seconds),
    }


def throughput(stats: PrepareStats, seconds: float) -> dict:
    """Corpus processing speed from the first note read to the last row written (no tokenizer
    training, no start-up)."""
    seconds = max(seconds, 1e-9)
    return {
        "words_per_second": round(stats.words / seconds, 1),
        "notes_per_second": round(stats.notes_kept / seconds, 2),
    }


def counted(notes, stats: PrepareStats):
    for note in notes:
        stats.notes_kept += 1
        stats.notes[note.note_type] += 1
        stats.words += len(note.text.split())
        yield note


def dropped_summary(stats: PrepareStats) -> str:
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(stats.dropped.items()) if v) or "none"
    return f"{stats.notes_read} notes read; dropped by reason: {reasons}"


def corpus_meta(cfg: Config, bands, tokenizer_recorded, vocab_size, stats, shard) -> dict:
    return {
        "format": "clinicalnotebert-corpus/1",
        "tokenizer": tokenizer_recorded,
        "vocab_size": vocab_size,
        "note_types": list(NOTE_TYPES),
        "variants": {v: {"min_tokens": lo, "max_tokens": hi} for v, (lo, hi) in bands.items()},
        "data": cfg.data.name,
        "sentence_splitter": cfg.prepare.sentence_splitter,
        "quirks": asdict(cfg.prepare.quirks),
        "shard": list(shard) if shard else None,
        "stats": stats.metrics(),
    }


def print_summary(stats: PrepareStats, missing: list[str]) -> None:
    """The summary table, the drop counts, and a line per configured note file that is not
    there (``sources.missing`` in the metrics counts them)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="prepare: corpus summary")
    table.add_column("")
    for note_type in NOTE_TYPES:
        table.add_column(note_type, justify="right")
    table.add_column("total", justify="right")
    table.add_row(
        "notes kept", *map(str, (stats.notes[t] for t in NOTE_TYPES)), str(stats.notes_kept)
    )
    for variant in VARIANTS:
        counts = [stats.sequences[variant][t] for t in NOTE_TYPES]
        table.add_row(f"{variant} sequences", *map(str, counts), str(sum(counts)))
    console = Console()
    console.print(table)
    console.print(
        f"{dropped_summary(stats)}; tokens: "
        + ", ".join(f"{v} {stats.tokens[v]:,}" for v in VARIANTS)
    )
    for line in missing:
        console.print(line, markup=False)
