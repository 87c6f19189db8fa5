"""Corpus preparation: notes -> filters -> clinical segmenter -> tokens -> three length variants.

Data flows one way: readers yield notes; :class:`NoteFilter` counts and drops bad rows;
workers (``prepare.num_proc`` spawned processes) segment, split and tokenise batches of notes
and apply the per-line rules; the main process groups short segments in stream order
(:class:`~clinicalnotebert.corpus.variants.SegmentGrouper`) and streams rows into Arrow files.
Nothing is held whole: memory stays flat as the corpus grows, except for the dedup set, which
holds one 64-bit hash per kept note (a Python int in a set: about 70 bytes, so ~150 MB for
MIMIC-III's two million notes).
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from clinicalnotebert.corpus.note_texts import NoteTexts, split_note
from clinicalnotebert.corpus.note_types import NOTE_TYPE_IDS, NOTE_TYPES
from clinicalnotebert.corpus.readers import RawNote
from clinicalnotebert.corpus.sentences import get_sentence_splitter
from clinicalnotebert.corpus.variants import (
    Band,
    Line,
    Piece,
    join_lines,
    note_pieces,
    sentence_piece,
)
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import atomic_dir, text_lines, write_json_atomic

VARIANTS = ("sentence", "segment", "note")
# Why a note can be dropped, in the order the checks run (``other_shard`` only in sharded runs).
DROP_REASONS = (
    "malformed",
    "empty",
    "invalid_utf8",
    "iserror",
    "excluded_subject",
    "too_long",
    "duplicate",
    "other_shard",
)
WRITE_BATCH_ROWS = 1000


@dataclass
class PrepareStats:
    notes_read: int = 0
    notes_kept: int = 0
    words: int = 0
    dropped: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    sequences: dict[str, Counter] = field(default_factory=lambda: {v: Counter() for v in VARIANTS})
    tokens: Counter = field(default_factory=Counter)

    def metrics(self) -> dict:
        return {
            "notes_read": self.notes_read,
            "notes_kept": self.notes_kept,
            "words": self.words,
            "dropped": {reason: self.dropped[reason] for reason in DROP_REASONS},
            "notes": {t: self.notes[t] for t in NOTE_TYPES},
            "sequences": {v: {t: self.sequences[v][t] for t in NOTE_TYPES} for v in VARIANTS},
            "tokens": {v: self.tokens[v] for v in VARIANTS},
        }


def text_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


class NoteFilter:
    """Row-level checks, in order; :meth:`reason` names why a note is dropped (or ``None``)."""

    def __init__(self, cfg, excluded_subjects: frozenset[str]):
        self.cfg = cfg
        self.excluded = excluded_subjects
        self.seen: dict[str, set[int]] = {t: set() for t in NOTE_TYPES}

    def reason(self, note: RawNote) -> str | None:
        text = note.text
        if note.malformed:
            return "malformed"
        if text is None or not text.strip():
            return "empty"
        if "\ufffd" in text:
            return "invalid_utf8"
        if self.cfg.drop_iserror and note.iserror:
            return "iserror"
        if note.subject_id is not None and note.subject_id.strip() in self.excluded:
            return "excluded_subject"
        if len(text) > self.cfg.max_note_chars:
            return "too_long"
        if self.cfg.dedup:
            digest = text_hash(text)
            if digest in self.seen[note.note_type]:
                return "duplicate"
            self.seen[note.note_type].add(digest)
        return None


def read_subject_list(path: str | None) -> frozenset[str]:
    if not path:
        return frozenset()
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(f"prepare.exclude_subjects: file '{file}' does not exist")
    return frozenset(line.strip() for _, line in text_lines(file) if line.strip())


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    """``"i/N"`` (1-based) -> ``(i, N)``."""
    if spec in (None, ""):
        return None
    try:
        index, count = (int(part) for part in str(spec).split("/"))
    except ValueError:
        raise UserError(f"prepare.shard '{spec}' must look like i/N, e.g. 2/12") from None
    if not 1 <= index <= count:
        raise UserError(f"prepare.shard '{spec}': i must be between 1 and N")
    return index, count


def kept_notes(
    sources: list[Callable[[], Iterator[list[RawNote]]]],
    note_filter: NoteFilter,
    stats: PrepareStats,
) -> Iterator[RawNote]:
    for source in sources:
        for batch in source():
            for note in batch:
                stats.notes_read += 1
                reason = note_filter.reason(note)
                if reason:
                    stats.dropped[reason] += 1
                else:
                    yield note


def shard_notes(
    make_stream: Callable[[], Iterator[RawNote]], index: int, count: int, stats: PrepareStats
) -> Iterator[RawNote]:
    """The notes of shard ``index`` of ``count``: per note type, note ``i`` goes to the shard whose
    word range ``[(J-1)*chunk, J*chunk)`` holds its cumulative word count, ``chunk = total // N + 1``
    (the reference's step1.sh). A first pass counts the words."""
    totals = Counter()
    for note in make_stream():
        totals[note.note_type] += len(note.text.split())
    chunk = {t: totals[t] // count + 1 for t in NOTE_TYPES}
    cumulative = Counter()
    for note in make_stream():
        cumulative[note.note_type] += len(note.text.split())
        lower = (index - 1) * chunk[note.note_type]
        if lower <= cumulative[note.note_type] < index * chunk[note.note_type]:
            yield note
        else:
            stats.dropped["other_shard"] += 1


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


# --- worker side -------------------------------------------------------------------------------

_WORKER: dict = {}


@dataclass(frozen=True)
class NoteResult:
    note_type: int
    sentences: list[Piece]
    segments: list[Line]
    chunks: list[Piece]


def init_worker(tokenizer_path: str, splitter_spec: str, bands: dict[str, tuple[int, int]]) -> None:
    from clinicalnotebert.models.tokenizer import load_tokenizer

    backend = load_tokenizer(tokenizer_path).backend_tokenizer
    backend.no_truncation()
    backend.no_padding()
    _WORKER.update(
        tokenizer=backend,
        joinable=splits_on_whitespace(backend),
        splitter=get_sentence_splitter(splitter_spec),
        bands={name: Band(*band) for name, band in bands.items()},
    )


def splits_on_whitespace(backend) -> bool:
    """Whether tokens of ``a + ' ' + b`` are tokens of ``a`` then ``b`` (BERT WordPiece): then
    segments and notes are built from their sentences' tokens instead of tokenised again."""
    from tokenizers import pre_tokenizers

    if not isinstance(backend.pre_tokenizer, pre_tokenizers.BertPreTokenizer):
        return False
    parts = ["Pt. is s/p CABG x3,", "BP 120/80-ish; Ca2+ 8.9 (low)."]
    whole = backend.encode(" ".join(parts), add_special_tokens=False).ids
    return whole == [i for p in parts for i in backend.encode(p, add_special_tokens=False).ids]


def to_line(encoding, text: str) -> Line:
    return Line(
        encoding.ids, [s for s, _ in encoding.offsets], [e for _, e in encoding.offsets], text
    )


def tokenised_variants(texts: NoteTexts, encode) -> tuple[list[Line], list[Line], Line]:
    """Sentence, segment and note lines of one note (``encode`` tokenises a list of strings)."""
    if not _WORKER["joinable"]:
        sentences, segments, note = texts.sentences, texts.segments, texts.note
        encodings = encode([*sentences, *segments, note])
        lines = [
            to_line(e, t) for e, t in zip(encodings, [*sentences, *segments, note], strict=True)
        ]
        return lines[: len(sentences)], lines[len(sentences) : -1], lines[-1]
    encodings = iter(encode(texts.sentences))
    grouped = [[to_line(next(encodings), s) for s in group] for group in texts.segment_sentences]
    segments = [join_lines(group) for group in grouped]
    return [line for group in grouped for line in group], segments, join_lines(segments)


def process_notes(notes: list[tuple[int, str]]) -> list[NoteResult]:
    """Segment, split and tokenise a batch of notes; apply the per-line variant rules."""
    bands: dict[str, Band] = _WORKER["bands"]
    tokenizer = _WORKER["tokenizer"]

    def encode(strings: list[str]):
        return tokenizer.encode_batch(strings, add_special_tokens=False)

    results = []
    for type_id, text in notes:
        sentences, segments, note = tokenised_variants(
            split_note(text, _WORKER["splitter"]), encode
        )
        kept = [p for p in (sentence_piece(s, bands["sentence"]) for s in sentences) if p]
        results.append(NoteResult(type_id, kept, segments, note_pieces(note, bands["note"])))
    return results


# --- writer side -------------------------------------------------------------------------------


class CorpusWriter:
    """Streams rows into one Arrow file per (variant, note type), then saves each as a dataset."""

    def __init__(self, root: Path, cls_id: int, sep_id: int, vocab_size: int, stats: PrepareStats):
        import datasets
        from datasets import Features, List, Value

        datasets.disable_progress_bars()  # our own bar covers the run

        id_type = "uint16" if vocab_size <= 2**16 else "int32"
        self.features = Features(
            {
                "input_ids": List(Value(id_type)),
                "length": Value("int32"),
                "note_category": Value("int8"),
                "text": Value("string"),
            }
        )
        self.root, self.cls_id, self.sep_id, self.stats = root, cls_id, sep_id, stats
        self.staging = root / ".staging"
        self.staging.mkdir(parents=True, exist_ok=True)
        self.writers: dict = {}
        self.rows: dict[tuple[str, int], list[Piece]] = {}

    def add(self, variant: str, type_id: int, piece: Piece) -> None:
        rows = self.rows.setdefault((variant, type_id), [])
        rows.append(piece)
        if len(rows) >= WRITE_BATCH_ROWS:
            self._flush(variant, type_id)

    def _flush(self, variant: str, type_id: int) -> None:
        from datasets.arrow_writer import ArrowWriter

        pieces = self.rows.pop((variant, type_id), [])
        key = (variant, type_id)
        if key not in self.writers:
            path = self.staging / f"{variant}-{NOTE_TYPES[type_id]}.arrow"
            self.writers[key] = ArrowWriter(features=self.features, path=str(path))
        ids = [[self.cls_id, *p.ids, self.sep_id] for p in pieces]
        lengths = [len(i) for i in ids]
        self.writers[key].write_batch(
            {
                "input_ids": ids,
                "length": lengths,
                "note_category": [type_id] * len(pieces),
                "text": [p.text for p in pieces],
            }
        )
        self.stats.sequences[variant][NOTE_TYPES[type_id]] += len(pieces)
        self.stats.tokens[variant] += sum(lengths)

    def close(self) -> None:
        from datasets import Dataset, DatasetInfo

        for variant in VARIANTS:
            for type_id, note_type in enumerate(NOTE_TYPES):
                self._flush(variant, type_id)
                writer = self.writers.get((variant, type_id))
                target = self.root / variant / note_type
                if writer is None:
                    Dataset.from_dict({}, features=self.features).save_to_disk(target, num_shards=1)
                    continue
                writer.finalize()
                dataset = Dataset.from_file(writer._path, info=DatasetInfo(features=self.features))
                dataset.save_to_disk(target, num_shards=1 if len(dataset) == 0 else None)
                del dataset
        shutil.rmtree(self.staging, ignore_errors=True)


def write_note_results(
    results: Iterable[list[NoteResult]], writer: CorpusWriter, grouper_factory
) -> None:
    """Main-process side: sentence and note pieces go straight to the writer; segment lines go
    through one grouper per note type, in stream order."""
    groupers = {type_id: grouper_factory() for type_id in range(len(NOTE_TYPES))}
    for batch in results:
        for result in batch:
            for piece in result.sentences:
                writer.add("sentence", result.note_type, piece)
            for line in result.segments:
                piece = groupers[result.note_type].add(line)
                if piece is not None:
                    writer.add("segment", result.note_type, piece)
            for piece in result.chunks:
                writer.add("note", result.note_type, piece)


def note_type_id(note: RawNote) -> int:
    return NOTE_TYPE_IDS[note.note_type]


# --- merging the shards of an array job ---------------------------------------------------------


def shard_corpora(spec) -> list[Path]:
    """``prepare.merge_from``: a list of corpus dirs, or one glob pattern."""
    from glob import glob

    from clinicalnotebert.corpus.store import corpus_dir

    patterns = [spec] if isinstance(spec, str) else list(spec)
    paths = sorted({Path(p) for pattern in patterns for p in glob(str(pattern))})
    if not paths:
        raise UserError(f"prepare.merge_from: nothing matches {spec}")
    return [corpus_dir(p) for p in paths]


def tokenizer_fingerprint(corpus: Path) -> str:
    """The tokenizer's identity: the hash of its tokenizer.json, or its hub id."""
    from clinicalnotebert.corpus.store import corpus_tokenizer

    reference = Path(corpus_tokenizer(corpus))
    if reference.is_dir():
        return hashlib.blake2b((reference / "tokenizer.json").read_bytes()).hexdigest()
    return str(reference)


def merge_corpora(shards: list[Path], target: Path) -> dict:
    """Concatenate shard corpora (same tokenizer, same bands) into ``target``; return its meta."""
    from datasets import concatenate_datasets

    from clinicalnotebert.corpus.store import corpus_tokenizer, load_meta, load_part

    metas = [load_meta(shard) for shard in shards]
    if len({tokenizer_fingerprint(s) for s in shards}) != 1:
        raise UserError("prepare.merge_from: the shards were measured with different tokenizers")
    if len({json_key(m["variants"]) for m in metas}) != 1:
        raise UserError("prepare.merge_from: the shards use different token bands")
    with atomic_dir(target) as tmp:
        for variant in VARIANTS:
            for note_type in NOTE_TYPES:
                parts = [load_part(s, variant, note_type) for s in shards]
                merged = concatenate_datasets(parts)
                merged.save_to_disk(
                    str(tmp / variant / note_type), num_shards=1 if len(merged) == 0 else None
                )
        tokenizer_dir = Path(corpus_tokenizer(shards[0]))
        recorded = str(tokenizer_dir)
        if tokenizer_dir.is_dir():
            with atomic_dir(target.parent / "tokenizer") as tokenizer_tmp:
                shutil.copytree(tokenizer_dir, tokenizer_tmp, dirs_exist_ok=True)
            recorded = "../tokenizer"
        meta = {
            **metas[0],
            "tokenizer": recorded,
            "shard": None,
            "merged_from": [str(s) for s in shards],
        }
        meta["stats"] = sum_stats([m["stats"] for m in metas])
        write_json_atomic(tmp / "meta.json", meta)
    return meta


def json_key(value) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def sum_stats(stats: list[dict]) -> dict:
    """Add up nested count dicts (notes_read, dropped.*, sequences.*.*, ...)."""
    total: dict = {}
    for item in stats:
        for key, value in item.items():
            total[key] = (
                sum_stats([total.get(key, {}), value])
                if isinstance(value, dict)
                else total.get(key, 0) + value
            )
    return total
