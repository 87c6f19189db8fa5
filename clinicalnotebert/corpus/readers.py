"""Streaming note readers: MIMIC-III NOTEEVENTS, MIMIC-IV-Note, and any CSV / JSONL of notes.

Readers never hold a whole file: they yield batches of :class:`RawNote`. Column names match in
any case (the official demo files are lower-case, the full releases upper-case). Fatal problems
(missing file or column, empty file) raise :class:`UserError`; row-level problems are left to
the caller's filters, which count them.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from clinicalnotebert.corpus.note_types import (
    keyword_note_type,
    mimic3_note_type,
    validate_category_map,
)
from clinicalnotebert.errors import UserError

ROWS_PER_BATCH = 2000
UNREADABLE = (OSError, EOFError, zlib.error)  # what a cut-off or corrupt (.gz) file raises


@dataclass(slots=True)
class RawNote:
    text: str | None
    note_type: str
    subject_id: str | None = None
    iserror: bool = False
    malformed: bool = False


def find_table(directory: str | Path, name: str) -> Path:
    """``<directory>/<name>.csv`` or ``.csv.gz``, matching the file name in any case."""
    if directory in (None, ""):
        raise UserError(f"no directory given for the {name} table: set the data.* dir it lives in")
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise UserError(f"directory '{directory}' does not exist")
    wanted = {f"{name}.csv".lower(), f"{name}.csv.gz".lower()}
    for path in sorted(directory.iterdir()):
        if path.name.lower() in wanted:
            return path
    raise UserError(f"no {name}.csv or {name}.csv.gz in '{directory}'")


def resolve_columns(path: Path, header: list[str], wanted: Mapping[str, bool]) -> dict[str, str]:
    """Map each wanted lower-case column name to the file's spelling; required ones must exist."""
    by_lower = {column.lower(): column for column in header}
    resolved = {}
    for column, required in wanted.items():
        if column.lower() in by_lower:
            resolved[column] = by_lower[column.lower()]
        elif required:
            raise UserError(f"{path}: missing column '{column}' ({describe_header(header)})")
    return resolved


def describe_header(header: list[str]) -> str:
    """The header's names, unless it looks like data (a file without a header row starts with a
    note, and note text must never reach a message)."""
    if all(len(name) <= 64 and " " not in name.strip() for name in header):
        return f"columns: {', '.join(header)}"
    return f"the first line does not look like a header ({len(header)} fields)"


def read_csv_batches(
    path: Path,
    wanted: Mapping[str, bool],
    encoding: str = "utf-8",
    rows_per_batch: int = ROWS_PER_BATCH,
) -> Iterator[pd.DataFrame]:
    """Yield DataFrames of ``rows_per_batch`` rows with lower-case column names."""
    if not path.is_file():
        raise UserError(f"file '{path}' does not exist")
    try:
        header = pd.read_csv(path, nrows=0, encoding=encoding, encoding_errors="replace")
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: file is empty") from None
    except UNREADABLE as exc:
        raise UserError(f"{path}: cannot read: {type(exc).__name__}") from None
    columns = resolve_columns(path, list(header.columns), wanted)
    reader = pd.read_csv(
        path,
        usecols=list(columns.values()),
        dtype=str,
        chunksize=rows_per_batch,
        encoding=encoding,
        encoding_errors="replace",
    )
    rename = {spelled: column for column, spelled in columns.items()}
    try:
        for frame in reader:
            yield frame.rename(columns=rename)
    except pd.errors.ParserError as exc:
        raise UserError(f"{path}: malformed CSV: {' '.join(str(exc).split())}") from None
    except UNREADABLE as exc:  # a cut-off or corrupt .gz
        raise UserError(f"{path}: cannot read: {type(exc).__name__}") from None


def cell(value) -> str | None:
    """A CSV cell as text, with pandas' missing values as ``None``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def mimic3_notes(path: Path) -> Iterator[list[RawNote]]:
    """MIMIC-III NOTEEVENTS: SUBJECT_ID, CATEGORY, TEXT, and ISERROR when present."""
    wanted = {"subject_id": True, "category": True, "text": True, "iserror": False}
    for frame in read_csv_batches(path, wanted):
        iserror = frame["iserror"] if "iserror" in frame else [None] * len(frame)
        yield [
            RawNote(cell(t), mimic3_note_type(cell(c)), cell(s), cell(e) in ("1", "1.0"))
            for t, c, s, e in zip(
                frame["text"], frame["category"], frame["subject_id"], iserror, strict=True
            )
        ]


def mimic4_notes(path: Path, note_type: str) -> Iterator[list[RawNote]]:
    """MIMIC-IV-Note discharge.csv / radiology.csv: subject_id, text; the file fixes the type."""
    for frame in read_csv_batches(path, {"subject_id": True, "text": True}):
        yield [
            RawNote(cell(t), note_type, cell(s))
            for t, s in zip(frame["text"], frame["subject_id"], strict=True)
        ]


def table_notes(
    path: Path,
    text_column: str,
    category_column: str | None,
    subject_column: str | None,
    category_map: Mapping[str, str] | None,
) -> Iterator[list[RawNote]]:
    """Any CSV or JSONL of notes; categories map to the five types by keyword or ``category_map``."""
    wanted = {text_column: True}
    if category_column:
        wanted[category_column] = True
    if subject_column:
        wanted[subject_column] = True
    frames = jsonl_batches(path, wanted) if is_jsonl(path) else read_csv_batches(path, wanted)
    for frame in frames:
        categories = frame[category_column] if category_column else [None] * len(frame)
        subjects = frame[subject_column] if subject_column else [None] * len(frame)
        malformed = frame["__malformed__"] if "__malformed__" in frame else [False] * len(frame)
        yield [
            RawNote(cell(t), keyword_note_type(cell(c), category_map), cell(s), malformed=bool(m))
            for t, c, s, m in zip(frame[text_column], categories, subjects, malformed, strict=True)
        ]


def is_jsonl(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    return ".jsonl" in suffixes or ".ndjson" in suffixes


def jsonl_batches(path: Path, wanted: Mapping[str, bool]) -> Iterator[pd.DataFrame]:
    """JSON Lines in batches; a line that is not a JSON object becomes a row marked malformed."""
    if not path.is_file():
        raise UserError(f"file '{path}' does not exist")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: file is empty")
    opener = _gzip_open if path.suffix.lower() == ".gz" else open
    rows: list[dict] = []
    columns: dict[str, str] | None = None
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = _json_object(line)
                if record is not None and columns is None:
                    columns = resolve_columns(path, list(record), wanted)
                rows.append(
                    _pick(record, columns) if record is not None else {"__malformed__": True}
                )
                if len(rows) == ROWS_PER_BATCH:
                    yield _frame(rows, wanted)
                    rows = []
    except UNREADABLE as exc:
        raise UserError(f"{path}: cannot read: {type(exc).__name__}") from None
    if rows:
        yield _frame(rows, wanted)


def _gzip_open(path, mode, **kwargs):
    import gzip

    return gzip.open(path, mode, **kwargs)


def _json_object(line: str) -> dict | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def _pick(record: dict, columns: dict[str, str] | None) -> dict:
    columns = columns or {}
    return {name: record.get(spelled) for name, spelled in columns.items()}


def _frame(rows: list[dict], wanted: Mapping[str, bool]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*wanted, "__malformed__"], dtype=object)
    frame["__malformed__"] = frame["__malformed__"].fillna(False)
    return frame


def note_sources(data_cfg) -> list[Callable[[], Iterator[list[RawNote]]]]:
    """The configured note sources, each a zero-argument factory of batch iterators.

    Factories (not iterators) so that a sharded run can stream the same sources twice.
    """
    if data_cfg.format == "csv":
        path = Path(str(data_cfg.path)).expanduser()
        category_map = validate_category_map(dict(data_cfg.category_map or {}))
        return [
            lambda: table_notes(
                path,
                data_cfg.text_column,
                data_cfg.category_column,
                data_cfg.subject_column,
                category_map,
            )
        ]
    sources: list[Callable[[], Iterator[list[RawNote]]]] = []
    if data_cfg.mimic3_dir:
        noteevents = find_table(data_cfg.mimic3_dir, "NOTEEVENTS")
        sources.append(lambda: mimic3_notes(noteevents))
    if data_cfg.mimic4_note_dir:
        for note_type in ("discharge", "radiology"):
            table = find_table(data_cfg.mimic4_note_dir, note_type)
            sources.append(lambda table=table, note_type=note_type: mimic4_notes(table, note_type))
    if not sources:
        raise UserError("data: set data.mimic3_dir and/or data.mimic4_note_dir (or use data=csv)")
    return sources
