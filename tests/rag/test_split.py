"""The patient-level split on the demo data, checked against NOTEEVENTS read independently."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clinicalnotebert.demo import ensure_demo_data
from clinicalnotebert.errors import UserError
from clinicalnotebert.rag.datastore import WordBand, note_chunks
from clinicalnotebert.rag.notes import scored_note_text
from clinicalnotebert.rag.split import load_or_build_split

BUDGET = 6000


@pytest.fixture(scope="module")
def demo_split(tmp_path_factory):
    from tests.helpers import compose

    out = tmp_path_factory.mktemp("split-run")
    overrides = [
        "task=rag",
        f"rag.sample_words={BUDGET}",
        "rag.chunks=sentence",
        "rag.max_chunks=null",
    ]
    cfg = compose([*overrides, f"rag.cache_dir={out / 'cache'}"], out)
    ensure_demo_data(cfg.data)
    split, reused = load_or_build_split(cfg.data, cfg.rag, Path(cfg.rag.cache_dir))
    again, reused_again = load_or_build_split(cfg.data, cfg.rag, Path(cfg.rag.cache_dir))
    notes = pd.read_csv(Path(cfg.data.mimic3_dir) / "NOTEEVENTS.csv", dtype=str)
    notes = notes[notes.TEXT.fillna("").str.strip() != ""].drop_duplicates("TEXT")
    assert (reused, reused_again) == (False, True)
    assert again.meta == split.meta
    return split, notes


def test_test_and_datastore_patients_never_overlap(demo_split):
    split, notes = demo_split
    test = {p.split(":")[1] for p in split.meta["test_patients"]}
    store = {p.split(":")[1] for p in split.meta["datastore_patients"]}
    assert test and store
    assert not test & store
    assert test | store == set(notes.SUBJECT_ID)
    assert split.overlap == set()


def test_test_notes_come_from_test_patients_within_the_budget(demo_split):
    split, notes = demo_split
    test = {p.split(":")[1] for p in split.meta["test_patients"]}
    authors = notes.set_index("TEXT").SUBJECT_ID
    assert {authors[text] for text in split.test_texts} <= test
    words = [len(scored_note_text(text).split()) for text in split.test_texts]
    assert sum(words) == split.meta["test_words"]
    assert sum(words[:-1]) <= BUDGET < sum(words)


def test_datastore_holds_exactly_the_other_patients_chunks(demo_split):
    split, notes = demo_split
    test = {p.split(":")[1] for p in split.meta["test_patients"]}
    band = WordBand(16, 128)
    others = notes[~notes.SUBJECT_ID.isin(test)].TEXT
    expected = {chunk for text in others for chunk in note_chunks(text, band)}
    stored = list(split.chunks["text"])
    assert len(stored) == len(set(stored)) == split.meta["chunks"]
    assert set(stored) == expected
    lengths = [len(chunk) for chunk in stored]
    assert lengths == sorted(lengths, reverse=True)


def test_a_budget_that_takes_every_patient_leaves_no_datastore(make_cfg, tmp_path):
    cfg = make_cfg("task=rag", "rag.sample_words=100000000", f"rag.cache_dir={tmp_path}")
    ensure_demo_data(cfg.data)
    with pytest.raises(UserError, match="the datastore is empty"):
        load_or_build_split(cfg.data, cfg.rag, tmp_path)
    assert not list(tmp_path.glob("split-*"))  # nothing half-built looks complete
