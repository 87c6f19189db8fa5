"""Notes of the observation window (docs/reference.md §6.2) and their vectors (docs/reference.md §6.3), cached on disk.

Extraction streams NOTEEVENTS: rows of the cohort's admissions with text, charted up to
INTIME + window (no lower bound: pre-ICU notes of the admission count), discharge summaries
excluded, exact duplicates dropped, cleaned, and kept with at least ``min_words`` words; sorted by
(SUBJECT_ID, HADM_ID, CHART_TIME, CATEGORY, raw length) as the reference.

Each note becomes one vector: truncated at ``max_length`` tokens as the reference (``truncate``),
or split into ``max_length`` pieces whose vectors are averaged (``chunk``, reads the whole note).
Vectors are cached under ``<cache>/predict/notes-<key>/`` where the key covers the encoder's files,
pooling, length handling, window, cohort and NOTEEVENTS file; the cache holds no text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clinicalnotebert.cache import encoder_fingerprint, entry_dir, file_identity, load_or_build
from clinicalnotebert.config import PredictConfig, PredictNotesConfig
from clinicalnotebert.corpus.readers import find_table, read_csv_batches
from clinicalnotebert.errors import UserError

log = logging.getLogger(__name__)

CACHE_VERSION = 1
VECTORS_FILE = "vectors.npz"
EXCLUDED_CATEGORY = "discharge summary"
DEID_PLACEHOLDER = re.compile(r"\[\*\*.*?\*\*\]", re.DOTALL)
NOTE_COLUMNS = {
    "subject_id": True,
    "hadm_id": True,
    "chartdate": True,
    "charttime": True,
    "category": True,
    "text": True,
}


def clean_note(text: str) -> str:
    """docs/reference.md §6.2 step 7: placeholders and underscores to spaces; backticks, '' and " removed."""
    text = DEID_PLACEHOLDER.sub(" ", text).replace("_", " ")
    return text.replace("`", "").replace("''", "").replace('"', "")


def window_rows(frame: pd.DataFrame, intimes: pd.Series, window_hours: float) -> pd.DataFrame:
    """One NOTEEVENTS batch reduced to the cohort's admissions and the observation window."""
    hadm = pd.to_numeric(frame["hadm_id"], errors="coerce")
    frame = frame[hadm.isin(intimes.index)].copy()
    frame["HADM_ID"] = hadm[frame.index].astype("int64")
    frame = frame[frame["text"].fillna("").str.strip() != ""]
    frame = frame[frame["category"].fillna("").str.strip().str.lower() != EXCLUDED_CATEGORY]
    chart_time = pd.to_datetime(frame["charttime"], format="ISO8601", errors="coerce")
    chart_date = pd.to_datetime(frame["chartdate"], format="ISO8601", errors="coerce")
    frame["CHART_TIME"] = chart_time.fillna(chart_date)
    limit = frame["HADM_ID"].map(intimes) + pd.Timedelta(hours=window_hours)
    return frame[frame["CHART_TIME"] <= limit]


def extract_notes(
    noteevents: Path, intimes: pd.Series, window_hours: float, min_words: int
) -> pd.DataFrame:
    """The window's notes: ``HADM_ID``, ``CHART_TIME``, ``CATEGORY``, ``CLEAN_TEXT``, sorted."""
    kept = [
        window_rows(frame, intimes, window_hours)
        for frame in read_csv_batches(noteevents, NOTE_COLUMNS)
    ]
    notes = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    if notes.empty:
        return pd.DataFrame(columns=["HADM_ID", "CHART_TIME", "CATEGORY", "CLEAN_TEXT"])
    notes["SUBJECT_ID"] = pd.to_numeric(notes["subject_id"], errors="coerce")
    notes = notes.drop_duplicates(["SUBJECT_ID", "HADM_ID", "CHART_TIME", "category", "text"])
    notes["CLEAN_TEXT"] = notes["text"].map(clean_note)
    notes = notes[notes["CLEAN_TEXT"].str.split().str.len() >= min_words]
    notes = notes.assign(CATEGORY=notes["category"], RAW_LENGTH=notes["text"].str.len())
    notes = notes.sort_values(
        ["SUBJECT_ID", "HADM_ID", "CHART_TIME", "CATEGORY", "RAW_LENGTH"], kind="stable"
    )
    return notes[["HADM_ID", "CHART_TIME", "CATEGORY", "CLEAN_TEXT"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Encoding


def chunk_texts(texts: list[str], tokenizer, max_length: int) -> tuple[list[str], np.ndarray]:
    """Each text cut at token boundaries into pieces of ``max_length`` tokens (special tokens
    included); returns the pieces and, per piece, the index of its text."""
    room = max_length - tokenizer.num_special_tokens_to_add()
    pieces, owners = [], []
    encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    for index, (text, offsets) in enumerate(zip(texts, encoded["offset_mapping"], strict=True)):
        starts = range(0, max(len(offsets), 1), room)
        for start in starts:
            window = offsets[start : start + room]
            pieces.append(text[window[0][0] : window[-1][1]] if window else text)
            owners.append(index)
    return pieces, np.asarray(owners)


def encode_notes(texts: list[str], tokenizer, model, notes_cfg: PredictNotesConfig) -> np.ndarray:
    """One vector per note (float32), truncated or chunk-averaged as configured."""
    from clinicalnotebert.models.encoder import encode_texts

    args = {
        "pooling": notes_cfg.pooling,
        "batch_size": notes_cfg.batch_size,
        "max_length": notes_cfg.max_length,
    }
    if notes_cfg.length_mode == "truncate":
        return encode_texts(texts, tokenizer, model, description="predict: encode notes", **args)
    pieces, owners = chunk_texts(texts, tokenizer, notes_cfg.max_length)
    vectors = encode_texts(
        pieces, tokenizer, model, description="predict: encode note chunks", **args
    )
    sums = np.zeros((len(texts), vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, owners, vectors)
    return (sums / np.bincount(owners, minlength=len(texts))[:, None]).astype(np.float32)


# --------------------------------------------------------------------------------------------
# The cache


@dataclass
class NoteVectors:
    """The vectors of the window's notes, and each note's admission (in note order)."""

    hadm_ids: np.ndarray
    vectors: np.ndarray

    def standardized(self, train: np.ndarray) -> NoteVectors:
        """Each dimension z-scored with the training notes' mean and standard deviation."""
        centre = self.vectors[train].mean(axis=0)
        spread = self.vectors[train].std(axis=0)
        spread = np.where(spread > 0, spread, 1.0)
        return NoteVectors(self.hadm_ids, ((self.vectors - centre) / spread).astype(np.float32))

    def per_admission(self, hadm_ids) -> list[np.ndarray]:
        """The vectors of each admission in ``hadm_ids`` (an empty (0, d) array when none)."""
        order = {h: i for i, h in enumerate(hadm_ids)}
        groups: list[list[int]] = [[] for _ in hadm_ids]
        for row, hadm in enumerate(self.hadm_ids.tolist()):
            if hadm in order:
                groups[order[hadm]].append(row)
        return [self.vectors[rows] for rows in groups]


def load_vectors(directory: Path) -> NoteVectors:
    with np.load(directory / VECTORS_FILE) as arrays:
        return NoteVectors(arrays["hadm_ids"], arrays["vectors"])


def note_vectors(
    predict: PredictConfig, encoder, cache_dir, cohort: pd.DataFrame, cohort_key: str
) -> NoteVectors:
    """The cohort's note vectors: from the cache, or extracted and encoded now (no text is
    stored, only vectors and admission ids)."""
    notes_cfg = predict.notes
    noteevents = find_table(predict.mimic3_dir, "NOTEEVENTS")
    parts = {
        "version": CACHE_VERSION,
        "encoder": encoder_fingerprint(encoder),
        "pooling": notes_cfg.pooling,
        "max_length": notes_cfg.max_length,
        "length_mode": notes_cfg.length_mode,
        "min_words": notes_cfg.min_words,
        "window_hours": predict.window_hours,
        "cohort": cohort_key,
        "noteevents": file_identity(noteevents),
    }

    def build(out: Path) -> None:
        notes = encode_cohort_notes(predict, encoder, cohort, noteevents)
        np.savez(out / VECTORS_FILE, hadm_ids=notes.hadm_ids, vectors=notes.vectors)

    directory = entry_dir(Path(str(cache_dir)) / "predict", "notes", parts)
    return load_or_build(directory, parts, build, load_vectors, notes_cfg.cache)[0]


def encode_cohort_notes(
    predict: PredictConfig, encoder, cohort: pd.DataFrame, noteevents: Path
) -> NoteVectors:
    from clinicalnotebert.models.encoder import load_encoder
    from clinicalnotebert.utils.runtime import resolve_device

    if encoder is None:
        raise UserError(
            "encoder.path is not set (predict.modality=text/both encodes notes with it)"
        )
    notes_cfg = predict.notes
    intimes = cohort.drop_duplicates("HADM_ID").set_index("HADM_ID")["INTIME"]
    notes = extract_notes(noteevents, intimes, predict.window_hours, notes_cfg.min_words)
    tokenizer, model = load_encoder(encoder, device=resolve_device(predict.device))
    texts = notes["CLEAN_TEXT"].tolist()
    vectors = (
        encode_notes(texts, tokenizer, model, notes_cfg)
        if texts
        else np.zeros((0, model.config.hidden_size), dtype=np.float32)
    )
    return NoteVectors(notes["HADM_ID"].to_numpy(dtype=np.int64), vectors)
