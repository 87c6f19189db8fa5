"""Streaming note readers: MIMIC-III NOTEEVENTS, MIMIC-IV-Note, and any CSV / JSONL of notes.

Readers never hold a whole file: they yield batches of :class:`RawNote`. Column names match in
any case (the official demo files are lower-case, the full releases upper-case). Fatal problems
(missing file or column, empty file) raise :class:`UserError`; row-level problems are left to
the caller's filters, which count them: a CSV row with more or fewer fields than the header, or
a JSONL line that is not an object, comes out as a note marked ``malformed``.

A note's text is text: ``NA``, ``null`` or ``None`` in a text column stays a note; only an empty
cell is a missing text. Id and category cells keep pandas' default missing values.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import logging
import lzma
import math
import zipfile
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

log = logging.getLogger(__name__)

ROWS_PER_BATCH = 2000
# What a cut-off or corrupt compressed file raises.
UNREADABLE = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
# The MIMIC-IV-Note tables of notes, in the order prepare reads them; the file sets the type.
MIMIC4_NOTE_TABLES = ("discharge", "radiology")
# pandas' default ``na_values``: the id and category cells that count as missing.
MISSING_CELLS = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)  # fmt: skip
MALFORMED = "__malformed__"  # the batch column that marks a malformed row


@dataclass(slots=True)
class RawNote:
    text: str | None
    note_type: str
    subject_id: str | None = None
    iserror: bool = False
    malformed: bool = False


def require_file(path: Path) -> None:
    """A user error unless ``path`` is a file: one that is missing, or a directory, is named."""
    if path.is_dir():
        raise UserError(f"'{path}' is a directory; give the file")
    if not path.is_file():
        raise UserError(f"file '{path}' does not exist")


def find_table(directory: str | Path, name: str) -> Path:
    """``<directory>/<name>.csv`` or ``.csv.gz``, matching the file name in any case."""
    path = optional_table(directory, name)
    if path is None:
        raise UserError(f"no {name}.csv or {name}.csv.gz in '{Path(directory).expanduser()}'")
    return path


def optional_table(directory: str | Path, name: str) -> Path | None:
    """:func:`find_table`, or ``None`` when the directory (which must exist) lacks the table."""
    if directory in (None, ""):
        raise UserError(f"no directory given for the {name} table: set the data.* dir it lives in")
    directory = Path(directory).expanduser()
    if directory.exists() and not directory.is_dir():
        raise UserError(f"'{directory}' is a file; give the directory of the {name} table")
    if not directory.is_dir():
        raise UserError(f"directory '{directory}' does not exist")
    wanted = {f"{name}.csv".lower(), f"{name}.csv.gz".lower()}
    for path in sorted(directory.iterdir()):
        if path.name.lower() in wanted:
            return path
    return None


def mimic4_tables(directory: str | Path) -> dict[str, Path]:
    """The MIMIC-IV-Note tables of notes in ``directory`` (``data.mimic4_note_dir``), by note
    type: either file may be missing (then its notes are not read), not both."""
    found = {name: optional_table(directory, name) for name in MIMIC4_NOTE_TABLES}
    tables = {name: path for name, path in found.items() if path is not None}
    if not tables:
        expected = " or ".join(f"{name}.csv[.gz]" for name in MIMIC4_NOTE_TABLES)
        raise UserError(f"data.mimic4_note_dir: no {expected} in '{Path(directory).expanduser()}'")
    return tables


def mimic4_gap(tables: Mapping[str, Path]) -> str | None:
    """What a MIMIC-IV-Note dir lacks, as a summary line; ``None`` when it has both tables."""
    missing = [name for name in MIMIC4_NOTE_TABLES if name not in tables]
    if not missing:
        return None
    absent = ", ".join(f"{name}.csv[.gz]" for name in missing)
    return f"mimic4_note_dir: no {absent}; read {', '.join(tables)} only"


def missing_note_tables(data_cfg) -> list[str]:
    """One summary line per configured note table that is not there (prepare reads the rest)."""
    if data_cfg.format != "mimic" or not data_cfg.mimic4_note_dir:
        return []
    gap = mimic4_gap(mimic4_tables(data_cfg.mimic4_note_dir))
    return [gap] if gap else []


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
    require_file(path)
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


class _Lines:
    """The lines of a text file for :func:`csv.reader`; notes whether the reader ran off the end
    of the file inside a record (an unclosed quote)."""

    def __init__(self, handle):
        self.handle = handle
        self.ended = False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.handle.readline()
        if not line:
            self.ended = True
            raise StopIteration
        # csv rejects NUL ("line contains NUL"); pandas kept it in the cell. It is not text.
        return line.replace("\x00", "") if "\x00" in line else line


def open_text(path: Path, encoding: str = "utf-8"):
    """``path`` as text for :mod:`csv`, decompressed by its suffix as pandas does (``.gz``,
    ``.bz2``, ``.xz``, ``.zip`` of one file); bad bytes become U+FFFD, a BOM is dropped."""
    if encoding.lower().replace("-", "") == "utf8":
        encoding = "utf-8-sig"
    text = {"encoding": encoding, "errors": "replace", "newline": ""}
    suffix = path.suffix.lower()
    if suffix in (".gz", ".bz2", ".xz"):
        opener = {".gz": _gzip_open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
        return opener(path, "rt", **text)
    if suffix == ".zip":
        with zipfile.ZipFile(path) as archive:  # the open member keeps the file open
            members = [name for name in archive.namelist() if not name.endswith("/")]
            if len(members) != 1:
                raise UserError(f"{path}: a .zip of notes must hold one file, not {len(members)}")
            return io.TextIOWrapper(archive.open(members[0]), **text)
    return open(path, **text)


def note_csv_batches(
    path: Path,
    wanted: Mapping[str, bool],
    text_column: str,
    rows_per_batch: int = ROWS_PER_BATCH,
) -> Iterator[pd.DataFrame]:
    """A CSV of notes in batches of ``rows_per_batch`` rows: the ``wanted`` columns plus the
    :data:`MALFORMED` flag.

    Read with :mod:`csv` rather than pandas, which keeps a row with too many fields (dropping
    the extra ones) and pads a short one with missing values: here a row whose field count is
    not the header's is marked malformed (a short one may lack the text; either way the row's
    fields cannot be trusted to be in their columns). ``text_column`` is text (only an empty
    cell is missing); the other columns keep pandas' default missing values
    (:data:`MISSING_CELLS`). Blank lines are skipped, as pandas does.
    """
    require_file(path)
    csv.field_size_limit(2**31 - 1)  # a note can be longer than csv's default 128 KiB
    try:
        with open_text(path) as handle:
            lines = _Lines(handle)
            reader = csv.reader(lines)
            header = next((row for row in reader if not _blank(row)), None)
            if header is None:
                raise UserError(f"{path}: file is empty")
            columns = resolve_columns(path, header, wanted)
            index = {name: header.index(spelled) for name, spelled in columns.items()}
            rows: list[dict] = []
            for number, row in _numbered_rows(path, reader, lines):
                if len(row) != len(header):
                    _warn_malformed(path, number, len(row), len(header))
                    rows.append({MALFORMED: True})
                else:
                    rows.append(
                        {
                            name: _text_cell(row[i]) if name == text_column else _id_cell(row[i])
                            for name, i in index.items()
                        }
                    )
                if len(rows) == rows_per_batch:
                    yield _frame(rows, wanted)
                    rows = []
            if rows:
                yield _frame(rows, wanted)
    except UNREADABLE as exc:  # a cut-off or corrupt compressed file
        raise UserError(f"{path}: cannot read: {type(exc).__name__}") from None


def _numbered_rows(path: Path, reader, lines: _Lines) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows after the header with the (1-based) line each starts on."""
    while True:
        number = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UserError(f"{path}: malformed CSV at line {number}: {exc}") from None
        if lines.ended:  # csv closed the record at the end of the file, not at a line end
            raise UserError(
                f"{path}: malformed CSV: the quoted field of the row at line {number} is never "
                "closed"
            )
        if not _blank(row):
            yield number, row


_WARNED: set[Path] = set()


def _warn_malformed(path: Path, line: int, fields: int, width: int) -> None:
    """Where the first malformed row of a file is, once per process (the sources are read more
    than once); the count is ``dropped.malformed`` in prepare's summary and metrics."""
    if path in _WARNED:
        return
    _WARNED.add(path)
    log.warning(
        "%s: the row at line %d has %d fields, the header %d: counted as malformed, as is "
        "every such row",
        path,
        line,
        fields,
        width,
    )


def _blank(row: list[str]) -> bool:
    """A blank or whitespace-only line (no row to pandas either)."""
    return len(row) <= 1 and not "".join(row).strip()


def _text_cell(value: str) -> str | None:
    return value if value else None


def _id_cell(value: str) -> str | None:
    return None if value in MISSING_CELLS else value


def cell(value) -> str | None:
    """A CSV cell as text, with pandas' missing values as ``None``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def note_batches(path: Path, wanted: Mapping[str, bool], text_column: str):
    """Batches of a CSV or JSONL file of notes (:func:`note_csv_batches`, :func:`jsonl_batches`)."""
    if is_jsonl(path):
        return jsonl_batches(path, wanted)
    return note_csv_batches(path, wanted, text_column)


def malformed_flags(frame: pd.DataFrame):
    return frame[MALFORMED] if MALFORMED in frame else [False] * len(frame)


def mimic3_notes(path: Path) -> Iterator[list[RawNote]]:
    """MIMIC-III NOTEEVENTS: SUBJECT_ID, CATEGORY, TEXT, and ISERROR when present."""
    wanted = {"subject_id": True, "category": True, "text": True, "iserror": False}
    for frame in note_batches(path, wanted, "text"):
        iserror = frame["iserror"] if "iserror" in frame else [None] * len(frame)
        yield [
            RawNote(cell(t), mimic3_note_type(cell(c)), cell(s), cell(e) in ("1", "1.0"), bool(m))
            for t, c, s, e, m in zip(
                frame["text"],
                frame["category"],
                frame["subject_id"],
                iserror,
                malformed_flags(frame),
                strict=True,
            )
        ]


def mimic4_notes(path: Path, note_type: str) -> Iterator[list[RawNote]]:
    """MIMIC-IV-Note discharge.csv / radiology.csv: subject_id, text; the file fixes the type."""
    for frame in note_batches(path, {"subject_id": True, "text": True}, "text"):
        yield [
            RawNote(cell(t), note_type, cell(s), malformed=bool(m))
            for t, s, m in zip(
                frame["text"], frame["subject_id"], malformed_flags(frame), strict=True
            )
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
    for frame in note_batches(path, wanted, text_column):
        categories = frame[category_column] if category_column else [None] * len(frame)
        subjects = frame[subject_column] if subject_column else [None] * len(frame)
        malformed = malformed_flags(frame)
        yield [
            RawNote(cell(t), keyword_note_type(cell(c), category_map), cell(s), malformed=bool(m))
            for t, c, s, m in zip(frame[text_column], categories, subjects, malformed, strict=True)
        ]


def is_jsonl(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    return ".jsonl" in suffixes or ".ndjson" in suffixes


def jsonl_batches(path: Path, wanted: Mapping[str, bool]) -> Iterator[pd.DataFrame]:
    """JSON Lines in batches; a line that is not a JSON object becomes a row marked malformed."""
    require_file(path)
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
                rows.append(_pick(record, columns) if record is not None else {MALFORMED: True})
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
    frame = pd.DataFrame(rows, columns=[*wanted, MALFORMED], dtype=object)
    frame[MALFORMED] = frame[MALFORMED].fillna(False)
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
        tables = mimic4_tables(data_cfg.mimic4_note_dir)
        if gap := mimic4_gap(tables):
            log.warning("%s", gap)
        for note_type, table in tables.items():
            sources.append(lambda table=table, note_type=note_type: mimic4_notes(table, note_type))
    if not sources:
        raise UserError("data: set data.mimic3_dir and/or data.mimic4_note_dir (or use data=csv)")
    return sources
