"""Test-note sampling by patient (docs/reference.md §5.1) and the patient-level split."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from clinicalnotebert.corpus.readers import RawNote
from clinicalnotebert.errors import UserError
from clinicalnotebert.rag.notes import (
    Note,
    NoteSource,
    chosen_texts,
    datastore_notes,
    evaluation_text,
    note_source,
    sample_alternating,
    sample_by_patient,
    take_census,
    take_until_over,
    unique_notes,
)


def fake_notes(rows: int, seed: int = 3) -> list[Note]:
    """Notes of ~25 patients with ids that sort differently as text and as numbers."""
    rng = np.random.default_rng(seed)
    subjects = rng.choice([7, 12, 100, 250, 31, 4000, 9, 88, 1234, 5] * 3 + [66, 67, 68], rows)
    notes = []
    for row, subject in enumerate(subjects):
        words = " ".join(f"w{row}x{i}" for i in range(int(rng.integers(5, 60))))
        note_type = "radiology" if rng.random() < 0.6 else "discharge"
        notes.append(Note(f"mimic3:{subject}", note_type, words))
    return notes


def reference_mimic3(notes: list[Note], budget: int, seed: int) -> tuple[list[int], list[str]]:
    """docs/reference.md §5.1 as the reference writes it: random.shuffle of sorted int ids, pandas sample."""
    frame = pd.DataFrame(
        {
            "subject_id": [int(n.patient.split(":")[1]) for n in notes],
            "words": [len(n.text.split()) for n in notes],
            "row": range(len(notes)),
        }
    )
    subjects = sorted(frame.subject_id.unique().tolist())
    random.seed(seed)
    random.shuffle(subjects)
    chosen, total = [], 0
    for subject in subjects:
        chosen.append(subject)
        total += frame.loc[frame.subject_id == subject, "words"].sum()
        if total > budget:
            break
    theirs = frame[frame.subject_id.isin(chosen)].sample(frac=1, random_state=seed)
    rows, total = [], 0
    for row, words in zip(theirs.row, theirs.words, strict=True):
        rows.append(row)
        total += words
        if total > budget:
            break
    return rows, [f"mimic3:{s}" for s in chosen]


@pytest.mark.parametrize(("budget", "seed"), [(400, 42), (1500, 42), (900, 7)])
def test_patient_sampling_matches_the_reference_procedure(budget, seed):
    notes = fake_notes(120)
    sample = sample_by_patient(take_census(notes), budget, seed)
    rows, patients = reference_mimic3(notes, budget, seed)
    assert sample.notes == rows
    assert sample.patients == frozenset(patients)
    # Every chosen note belongs to a chosen patient.
    assert {notes[i].patient for i in sample.notes} <= sample.patients


def test_alternating_sampling_matches_the_reference_procedure():
    notes = fake_notes(80)
    sample = sample_alternating(take_census(notes), 700, 42)
    frame = pd.DataFrame(
        {"type": [n.note_type for n in notes], "words": [len(n.text.split()) for n in notes]}
    ).sample(frac=1, random_state=42)
    radiology = frame[frame.type == "radiology"]
    discharge = frame[frame.type == "discharge"]
    rows, total = [], 0
    for pair in zip(radiology.index, discharge.index, strict=False):
        for row in pair:
            if total <= 700:
                rows.append(row)
                total += frame.words[row]
    assert sample.notes == rows
    assert [notes[i].note_type for i in sample.notes[:4]] == [
        "radiology",
        "discharge",
        "radiology",
        "discharge",
    ]
    assert sample.patients == frozenset(notes[i].patient for i in rows)


def test_take_until_over_stops_after_exceeding_the_budget():
    assert take_until_over([0, 1, 2], [100, 200, 50], 250) == [0, 1]
    assert take_until_over([0, 1, 2], [100, 150, 50], 250) == [0, 1, 2]
    assert take_until_over([2, 0], [100, 150, 300], 250) == [2]


def source_of(rows: list[RawNote]) -> NoteSource:
    return NoteSource("csv", (), lambda: iter([rows[:2], rows[2:]]))


def test_unique_notes_drop_empty_duplicate_and_anonymous_notes():
    rows = [
        RawNote("first note", "others", "1"),
        RawNote("   ", "others", "1"),
        RawNote("first note", "nursing", "2"),  # the same text again: dropped
        RawNote("no patient", "others", None),
        RawNote("second note", "radiology", " 2 "),
        RawNote(None, "others", "3", malformed=True),
    ]
    notes = list(unique_notes(source_of(rows)))
    assert notes == [
        Note("csv:1", "others", "first note"),
        Note("csv:2", "radiology", "second note"),
    ]


def test_datastore_notes_exclude_test_patients_and_record_contributors():
    notes = [Note("a:1", "others", "one"), Note("a:2", "others", "two"), Note("a:3", "others", "x")]
    contributors: set[str] = set()
    texts = list(datastore_notes(notes, frozenset({"a:2"}), contributors))
    assert texts == ["one", "x"]
    assert contributors == {"a:1", "a:3"}


def test_chosen_texts_keep_the_sampled_order():
    notes = [Note("a:1", "others", f"text {i}") for i in range(5)]
    assert chosen_texts(notes, [3, 0, 4]) == ["text 3", "text 0", "text 4"]


def test_evaluation_text_cleans_and_joins_like_the_reference():
    texts = ["Seen by [**Last Name (NamePattern4) 1604**].\nStable.", "----", "Next  note."]
    assert evaluation_text(texts, "") == "Seen by Last Name. Stable. \nNext  note."
    assert evaluation_text(texts, "\n\n") == "Seen by Last Name. Stable.\n\n \n\n\nNext  note."


def test_csv_without_subject_column_is_a_user_error(make_cfg, tmp_path):
    cfg = make_cfg("data=csv", f"data.path={tmp_path / 'notes.csv'}")
    with pytest.raises(UserError, match="data.subject_column"):
        note_source(cfg.data, "csv")
    with pytest.raises(UserError, match="data=mimic or data=demo"):
        note_source(cfg.data, "mimic3")
