"""Notes of the window (docs/reference.md §6.2), chunked encoding and the vector cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinicalnotebert.corpus.readers import find_table
from clinicalnotebert.errors import UserError
from clinicalnotebert.models.encoder import encode_texts, load_encoder
from clinicalnotebert.predict import notes as notes_module
from clinicalnotebert.predict.notes import chunk_texts, clean_note, encode_notes, extract_notes
from tests.predict.tables import write_tables

WORDS = "the patient remains on the ventilator overnight"


def note(hadm, category, text, charttime=None, chartdate=None, subject=1):
    return {"SUBJECT_ID": subject, "HADM_ID": hadm, "CHARTDATE": chartdate, "CHARTTIME": charttime,
            "CATEGORY": category, "DESCRIPTION": "Report", "TEXT": text}  # fmt: skip


@pytest.fixture
def noteevents(tmp_path):
    rows = [
        note(
            11,
            "Nursing",
            f"Seen by [**Name 123**] at__noon, `{WORDS}` ''ok'' \"fine\"",
            "2100-01-01 12:00",
        ),
        note(11, "Nursing", f"{WORDS} and stable", "2100-01-01 12:00"),  # same time, longer
        note(11, "Radiology", f"{WORDS} before the unit", "2100-01-01 06:00"),  # pre-ICU counts
        note(11, "ECG", f"{WORDS} sinus rhythm", chartdate="2100-01-02"),  # date only: midnight
        note(11, "Echo", f"{WORDS} normal function", chartdate="2100-01-03"),
        note(11, "Nursing", f"{WORDS} at the limit", "2100-01-02 10:00"),  # INTIME + 24 h
        note(11, "Nursing", f"{WORDS} one minute late", "2100-01-02 10:01"),
        note(11, "Discharge summary", f"{WORDS} discharge", "2100-01-01 12:00"),
        note(11, "Nursing", f"{WORDS} and stable", "2100-01-01 12:00"),  # exact duplicate
        note(11, "Nursing", "", "2100-01-01 13:00"),
        note(11, "Nursing", "only four words here", "2100-01-01 13:00"),
        note(99, "Nursing", f"{WORDS} other admission", "2100-01-01 12:00", subject=9),
        note(None, "Nursing", f"{WORDS} no admission", "2100-01-01 12:00"),
    ]
    return find_table(write_tables(tmp_path / "mimic", NOTEEVENTS=rows), "NOTEEVENTS")


INTIMES = pd.Series([pd.Timestamp("2100-01-01 10:00")], index=[11])


def test_clean_note_as_the_reference():
    assert clean_note("a [**Name 12**] b__c `d` ''e'' \"f\"") == "a   b  c d e f"


def test_window_notes_follow_the_reference_rules(noteevents):
    found = extract_notes(noteevents, INTIMES, window_hours=24, min_words=5)
    assert found["CATEGORY"].tolist() == ["Radiology", "Nursing", "Nursing", "ECG", "Nursing"]
    assert found["CHART_TIME"].astype(str).tolist() == [
        "2100-01-01 06:00:00",
        "2100-01-01 12:00:00",
        "2100-01-01 12:00:00",
        "2100-01-02 00:00:00",
        "2100-01-02 10:00:00",
    ]
    assert found["CLEAN_TEXT"].iloc[1] == f"{WORDS} and stable"  # the shorter raw text first
    assert "[**" not in found["CLEAN_TEXT"].iloc[2] and "`" not in found["CLEAN_TEXT"].iloc[2]
    assert set(found["HADM_ID"]) == {11}


def test_missing_note_column_is_a_user_error(tmp_path):
    table = write_tables(tmp_path / "m", NOTEEVENTS=[{"SUBJECT_ID": 1, "HADM_ID": 11, "TEXT": "x"}])
    with pytest.raises(UserError, match="missing column 'chartdate'"):
        extract_notes(find_table(table, "NOTEEVENTS"), INTIMES, 24, 5)


def test_chunks_cover_the_whole_note(random_encoder):
    tokenizer, model = load_encoder(random_encoder)
    long_text = " ".join(f"word{i} value{i}." for i in range(60))
    pieces, owners = chunk_texts([long_text, "short note"], tokenizer, max_length=16)
    n_tokens = len(tokenizer(long_text, add_special_tokens=False)["input_ids"])
    assert owners.tolist().count(0) == -(-n_tokens // 14) and owners.tolist().count(1) == 1
    assert "".join(pieces[:-1]).replace(" ", "") == long_text.replace(" ", "")
    assert all(len(tokenizer(p)["input_ids"]) <= 16 for p in pieces)


def test_chunk_mode_averages_chunk_vectors(random_encoder, make_cfg):
    tokenizer, model = load_encoder(random_encoder)
    notes_cfg = make_cfg(
        "task=predict", "predict.notes.max_length=16", "predict.notes.pooling=mean"
    ).predict.notes
    texts = [" ".join(f"term{i}" for i in range(40)), "a short one"]
    truncated = encode_notes(texts, tokenizer, model, notes_cfg)
    notes_cfg.length_mode = "chunk"
    chunked = encode_notes(texts, tokenizer, model, notes_cfg)
    pieces, owners = chunk_texts(texts, tokenizer, 16)
    piece_vectors = encode_texts(pieces, tokenizer, model, "mean", 64, 16)
    np.testing.assert_allclose(
        chunked[0], piece_vectors[owners == 0].mean(axis=0), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(chunked[1], truncated[1], rtol=1e-5, atol=1e-6)  # one chunk
    assert not np.allclose(chunked[0], truncated[0])


def test_vectors_are_cached_per_encoder_settings(noteevents, random_encoder, make_cfg, monkeypatch):
    overrides = [
        "task=predict",
        f"predict.mimic3_dir={noteevents.parent}",
        f"encoder.path={random_encoder}",
    ]
    cohort = pd.DataFrame({"HADM_ID": [11], "INTIME": INTIMES.to_numpy()})

    def vectors(*more: str, key: str = "cohort-key"):
        cfg = make_cfg(*overrides, *more)
        return notes_module.note_vectors(
            cfg.predict, cfg.encoder.path, cfg.paths.cache_dir, cohort, key
        )

    first = vectors()
    assert first.vectors.shape == (5, 128) and first.hadm_ids.tolist() == [11] * 5

    def not_again(*args):
        raise AssertionError("encoded again despite the cache")

    monkeypatch.setattr(notes_module, "encode_cohort_notes", not_again)
    again = vectors()
    np.testing.assert_array_equal(again.vectors, first.vectors)
    for changed in (
        "predict.notes.pooling=mean",
        "predict.window_hours=12",
        "predict.notes.length_mode=chunk",
    ):
        with pytest.raises(AssertionError, match="encoded again"):
            vectors(changed)
    with pytest.raises(AssertionError, match="encoded again"):
        vectors(key="another-cohort")


def test_per_admission_groups_vectors_in_note_order():
    vectors = notes_module.NoteVectors(
        np.array([5, 3, 5]), np.arange(6, dtype=np.float32).reshape(3, 2)
    )
    grouped = vectors.per_admission([3, 5, 7])
    assert [g.tolist() for g in grouped] == [[[2, 3]], [[0, 1], [4, 5]], []]
    standardized = vectors.standardized(np.array([True, True, False]))
    np.testing.assert_allclose(standardized.vectors[:2].mean(axis=0), 0, atol=1e-6)
