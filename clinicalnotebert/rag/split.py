"""The patient-level split: sampled test notes, and a datastore of the other patients' chunks.

Built once per input (cached under ``rag.cache_dir/split-<key>``, the key naming the note files,
the sampling and the chunk band) in three streamed passes: count the test source's words, read
the chosen test notes, chunk the datastore source's other patients.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from clinicalnotebert.cache import entry_dir, file_identity, load_or_build
from clinicalnotebert.corpus.prepare import batched
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import read_json, write_json_atomic
from clinicalnotebert.rag.datastore import (
    ChunkWriter,
    WordBand,
    chunk_notes,
    chunks_fingerprint,
    load_chunks,
    word_band,
)
from clinicalnotebert.rag.notes import (
    SAMPLERS,
    NoteSource,
    chosen_texts,
    datastore_notes,
    note_source,
    source_name,
    take_census,
    unique_notes,
)
from clinicalnotebert.utils.parallel import ordered_map
from clinicalnotebert.utils.progress import progress

META_FILE = "meta.json"
# Bump when the split or chunk rules change, so that old caches are not reused.
SPLIT_VERSION = 1


@dataclass(frozen=True)
class Split:
    test_texts: list[str]  # raw test notes, in evaluation order
    chunks: object  # datasets.Dataset, column "text", memory-mapped
    meta: dict

    @property
    def overlap(self) -> set[str]:
        return set(self.meta["test_patients"]) & set(self.meta["datastore_patients"])


def load_or_build_split(data_cfg, rag_cfg, cache_dir: Path) -> tuple[Split, bool]:
    """The split for this config, and whether it came from the cache."""
    test_source = note_source(data_cfg, source_name(data_cfg, rag_cfg.test_set))
    store_source = note_source(data_cfg, source_name(data_cfg, rag_cfg.datastore))
    band = word_band(rag_cfg.chunk_words)
    parts = {
        "version": SPLIT_VERSION,
        "test": [test_source.name, *map(file_identity, test_source.files)],
        "datastore": [store_source.name, *map(file_identity, store_source.files)],
        "sample_words": rag_cfg.sample_words,
        "seed": rag_cfg.seed,
        "band": [band.min_words, band.max_words],
        "max_chunks": rag_cfg.max_chunks,
    }

    def build(out: Path) -> None:
        build_split(test_source, store_source, rag_cfg, band, out)

    return load_or_build(entry_dir(cache_dir, "split", parts), parts, build, read_split)


def build_split(
    test_source: NoteSource, store_source: NoteSource, rag_cfg, band: WordBand, out: Path
) -> None:
    from datasets import Dataset

    census = take_census(progress(unique_notes(test_source), "rag: count test-source notes"))
    if not census.patients:
        files = ", ".join(map(str, test_source.files))
        raise UserError(f"rag: no notes with text and a subject id in {files}")
    sample = SAMPLERS[test_source.name](census, rag_cfg.sample_words, rag_cfg.seed)
    texts = chosen_texts(unique_notes(test_source), sample.notes)
    Dataset.from_dict({"text": texts}).save_to_disk(str(out / "test_notes"), num_shards=1)
    contributors: set[str] = set()
    notes = datastore_notes(unique_notes(store_source), sample.patients, contributors)
    writer = ChunkWriter(out / ".staging")
    chunked = ordered_map(
        partial(chunk_notes, band=band),
        batched(progress(notes, "rag: chunk datastore notes"), rag_cfg.notes_per_task),
        num_proc=rag_cfg.num_proc,
    )
    for chunks in chunked:
        writer.add(chunks)
    count = writer.save(out / "chunks", rag_cfg.max_chunks, rag_cfg.seed)
    if count == 0:
        raise UserError(
            f"rag: the datastore is empty: no note outside the {len(sample.patients)} test "
            f"patients has a segment of more than {band.min_words} words (lower "
            "rag.sample_words, or use shorter chunks: rag.chunks=sentence)"
        )
    meta = {
        "test_source": test_source.name,
        "datastore_source": store_source.name,
        "test_patients": sorted(sample.patients),
        "datastore_patients": sorted(contributors),
        "test_words": int(sum(census.words[i] for i in sample.notes)),
        "chunks": count,
        "fingerprint": chunks_fingerprint(load_chunks(out / "chunks")),
    }
    write_json_atomic(out / META_FILE, meta)


def read_split(path: Path) -> Split:
    from datasets import load_from_disk

    test_notes = load_from_disk(str(path / "test_notes"))
    return Split(
        list(test_notes["text"]), load_chunks(path / "chunks"), read_json(path / META_FILE)
    )
