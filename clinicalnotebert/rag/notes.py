"""Test notes and datastore notes, split by patient (docs/reference.md §5.1, and 5.2 step 1).

Notes are streamed (never a whole NOTEEVENTS in memory): a first pass counts each note's words
(:class:`Census`), the sampler picks the test notes and patients from those counts, and later
passes read the chosen texts and the datastore notes. Patients are named ``<source>:<subject>``:
MIMIC-III and MIMIC-IV ids are separate id spaces, so a patient can only be matched (and kept
out of the datastore) within one source.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clinicalnotebert.corpus.deid import clean_deid, clean_line
from clinicalnotebert.corpus.prepare import text_hash
from clinicalnotebert.corpus.readers import (
    RawNote,
    find_table,
    mimic3_notes,
    mimic4_gap,
    mimic4_notes,
    mimic4_tables,
    table_notes,
)
from clinicalnotebert.errors import UserError

log = logging.getLogger(__name__)

SOURCES = ("mimic3", "mimic4", "csv")
# The reference reads MIMIC-IV radiology before discharge (docs/reference.md §5.1).
MIMIC4_FILES = ("radiology", "discharge")


@dataclass(frozen=True)
class NoteSource:
    name: str  # the namespace of its patient ids
    files: tuple[Path, ...]  # what it reads (their identity keys the cache)
    batches: Callable[[], Iterator[list[RawNote]]]


@dataclass(frozen=True, slots=True)
class Note:
    patient: str  # "<source>:<subject id>"
    note_type: str
    text: str


def subject_of(patient: str) -> str:
    """The raw subject id of a ``<source>:<subject>`` patient name."""
    return patient.split(":", 1)[1]


def note_source(data_cfg, name: str) -> NoteSource:
    """The notes of one source named in ``rag.test_set`` / ``rag.datastore``."""
    if name == "csv":
        return csv_source(data_cfg)
    if data_cfg.format != "mimic":
        raise UserError(f"rag: source '{name}' needs data=mimic or data=demo (data is csv)")
    if name == "mimic3":
        if not data_cfg.mimic3_dir:
            raise UserError("rag: the mimic3 source needs data.mimic3_dir (NOTEEVENTS)")
        path = find_table(data_cfg.mimic3_dir, "NOTEEVENTS")
        return NoteSource(name, (path,), lambda: mimic3_notes(path))
    if name == "mimic4":
        if not data_cfg.mimic4_note_dir:
            raise UserError("rag: the mimic4 source needs data.mimic4_note_dir")
        # As prepare: either file may be missing (its notes are then not read), not both.
        tables = mimic4_tables(data_cfg.mimic4_note_dir)
        if gap := mimic4_gap(tables):
            log.warning("rag: %s", gap)
        note_types = tuple(file for file in MIMIC4_FILES if file in tables)
        paths = tuple(tables[file] for file in note_types)

        def batches() -> Iterator[list[RawNote]]:
            for path, note_type in zip(paths, note_types, strict=True):
                yield from mimic4_notes(path, note_type)

        return NoteSource(name, paths, batches)
    raise UserError(f"rag: unknown note source '{name}' (choose from auto, {', '.join(SOURCES)})")


def csv_source(data_cfg) -> NoteSource:
    if data_cfg.format != "csv":
        raise UserError("rag: source 'csv' needs data=csv")
    if not data_cfg.subject_column:
        raise UserError(
            "data.subject_column is not set: task=rag needs each note's patient id "
            "to keep test patients out of the datastore"
        )
    path = Path(str(data_cfg.path)).expanduser()
    if not path.is_file():
        raise UserError(f"data.path '{path}' does not exist")
    category_map = dict(data_cfg.category_map or {})
    return NoteSource(
        "csv",
        (path,),
        lambda: table_notes(
            path,
            data_cfg.text_column,
            data_cfg.category_column,
            data_cfg.subject_column,
            category_map,
        ),
    )


def source_name(data_cfg, configured: str) -> str:
    """``auto``: the CSV for data=csv; else MIMIC-III when given (the reference), else MIMIC-IV."""
    if configured != "auto":
        return configured
    if data_cfg.format == "csv":
        return "csv"
    return "mimic3" if data_cfg.mimic3_dir else "mimic4"


def unique_notes(source: NoteSource) -> Iterator[Note]:
    """Notes with text and a patient id, in file order; a repeated exact text is dropped."""
    seen: set[int] = set()
    for batch in source.batches():
        for raw in batch:
            subject = (raw.subject_id or "").strip()
            if raw.malformed or not raw.text or not raw.text.strip() or not subject:
                continue
            digest = text_hash(raw.text)
            if digest in seen:
                continue
            seen.add(digest)
            yield Note(f"{source.name}:{subject}", raw.note_type, raw.text)


def note_words(text: str) -> int:
    """Whitespace words of the cleaned note (``clean_line`` does not change the count)."""
    return len(clean_deid(text).split())


def scored_note_text(text: str) -> str:
    """A test note as the reference scores it: de-identified, one line."""
    return clean_line(clean_deid(text))


@dataclass(frozen=True)
class Census:
    """One row per unique note (file order): its patient code, word count, and type."""

    patients: list[str]  # code -> patient name
    patient_of: np.ndarray  # int32, per note
    words: np.ndarray  # int64, per note
    radiology: np.ndarray  # bool, per note


def take_census(notes: Iterable[Note]) -> Census:
    codes: dict[str, int] = {}
    patient_of, words, radiology = [], [], []
    for note in notes:
        patient_of.append(codes.setdefault(note.patient, len(codes)))
        words.append(note_words(note.text))
        radiology.append(note.note_type == "radiology")
    return Census(
        list(codes),
        np.asarray(patient_of, dtype=np.int32),
        np.asarray(words, dtype=np.int64),
        np.asarray(radiology, dtype=bool),
    )


@dataclass(frozen=True)
class SampledNotes:
    patients: frozenset[str]  # kept out of the datastore
    notes: list[int]  # census indices, in evaluation order


def take_until_over(order: Iterable[int], words: Sequence[float], budget: int) -> list[int]:
    """Take items in ``order`` until their words add up to more than ``budget``."""
    taken, total = [], 0
    for item in order:
        taken.append(int(item))
        total += words[item]
        if total > budget:
            break
    return taken


def numeric_first(subject: str) -> tuple:
    """Sort key: numeric subject ids by value (as the reference's integer column), others after."""
    return (0, int(subject), "") if subject.isdigit() else (1, 0, subject)


def sample_by_patient(census: Census, budget: int, seed: int) -> SampledNotes:
    """MIMIC-III (docs/reference.md §5.1): shuffle the sorted patients (``random.seed``), take patients until
    their words exceed the budget, then their notes (shuffled as pandas
    ``sample(frac=1, random_state=seed)``) until the budget is exceeded again."""
    per_patient = np.bincount(
        census.patient_of, weights=census.words, minlength=len(census.patients)
    )
    subjects = [subject_of(patient) for patient in census.patients]
    order = sorted(range(len(subjects)), key=lambda code: numeric_first(subjects[code]))
    random.Random(seed).shuffle(order)
    chosen = take_until_over(order, per_patient, budget)
    their_notes = np.flatnonzero(np.isin(census.patient_of, chosen))
    shuffled = their_notes[pandas_shuffle(len(their_notes), seed)]
    notes = take_until_over(shuffled, census.words, budget)
    return SampledNotes(frozenset(census.patients[c] for c in chosen), notes)


def sample_alternating(census: Census, budget: int, seed: int) -> SampledNotes:
    """MIMIC-IV (docs/reference.md §5.1): shuffle all notes, then alternate radiology and discharge notes until
    the budget is exceeded; the test patients are the authors of the chosen notes. Notes of one
    type only (a MIMIC-IV-Note dir with one of the two files) are taken in the shuffled order."""
    order = pandas_shuffle(len(census.words), seed)
    radiology = order[census.radiology[order]]
    discharge = order[~census.radiology[order]]
    if len(radiology) and len(discharge):
        alternating = [note for pair in zip(radiology, discharge, strict=False) for note in pair]
    else:  # nothing to alternate with: zip would take no note at all
        alternating = list(order)
    notes = take_until_over(alternating, census.words, budget)
    return SampledNotes(frozenset(census.patients[census.patient_of[i]] for i in notes), notes)


def pandas_shuffle(size: int, seed: int) -> np.ndarray:
    """The row order of pandas ``sample(frac=1, random_state=seed)`` on ``size`` rows."""
    return np.random.RandomState(seed).permutation(size)


SAMPLERS = {"mimic3": sample_by_patient, "csv": sample_by_patient, "mimic4": sample_alternating}


def chosen_texts(notes: Iterable[Note], chosen: Sequence[int]) -> list[str]:
    """The raw texts of the census indices ``chosen``, in that order."""
    wanted = set(chosen)
    texts = {i: note.text for i, note in enumerate(notes) if i in wanted}
    return [texts[i] for i in chosen]


def evaluation_text(texts: Iterable[str], separator: str) -> str:
    """The scored text: cleaned notes joined by ``separator`` (the reference: none); an empty
    note becomes ``" \\n"`` as in the reference."""
    return separator.join(scored_note_text(text) or " \n" for text in texts)


def datastore_notes(
    notes: Iterable[Note], excluded: frozenset[str], contributors: set[str]
) -> Iterator[str]:
    """Texts of the notes whose patient is not ``excluded``; ``contributors`` collects their
    patients (for the overlap check)."""
    for note in notes:
        if note.patient not in excluded:
            contributors.add(note.patient)
            yield note.text
