"""Note readers: field counts, literal 'NA' texts, MIMIC-IV-Note dirs with one of the two files."""

from __future__ import annotations

import csv
import gzip

import pytest

from clinicalnotebert.corpus.readers import (
    mimic3_notes,
    mimic4_notes,
    missing_note_tables,
    note_sources,
    table_notes,
)
from clinicalnotebert.errors import UserError
from clinicalnotebert.rag.notes import note_source, sample_alternating, take_census, unique_notes

NOTE = "Chest x-ray: no acute cardiopulmonary process, heart size is normal."


def write_rows(path, rows: list[list[str]]):
    """A CSV written by the csv module: quoted where needed, each row with its own field count."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def read_all(batches) -> list:
    return [note for batch in batches for note in batch]


def test_rows_with_more_or_fewer_fields_than_the_header_are_malformed(tmp_path):
    path = write_rows(
        tmp_path / "notes.csv",
        [
            ["subject", "category", "text"],
            ["1", "Radiology", NOTE],
            ["2", "Radiology", "second, quoted note", "an extra field"],  # 4 fields
            ["3", "Nursing"],  # 2 fields: no text column
            ["4", "Nursing", "fourth note"],
        ],
    )
    notes = read_all(table_notes(path, "text", "category", "subject", None))
    assert [n.malformed for n in notes] == [False, True, True, False]
    # The rows around the bad ones are read whole, in their own columns.
    assert (notes[0].text, notes[0].subject_id, notes[0].note_type) == (NOTE, "1", "radiology")
    assert (notes[3].text, notes[3].subject_id, notes[3].note_type) == (
        "fourth note",
        "4",
        "nursing",
    )


def test_mimic_tables_count_extra_fields_as_malformed(tmp_path):
    noteevents = write_rows(
        tmp_path / "NOTEEVENTS.csv",
        [
            ["ROW_ID", "SUBJECT_ID", "CATEGORY", "ISERROR", "TEXT"],
            ["1", "10", "Radiology", "", NOTE],
            ["2", "11", "Radiology", "", NOTE, "trailing field"],
            ["3", "12", "Nursing", "1", "third note"],
        ],
    )
    notes = read_all(mimic3_notes(noteevents))
    assert [n.malformed for n in notes] == [False, True, False]
    assert [n.iserror for n in notes] == [False, False, True]
    radiology = write_rows(
        tmp_path / "radiology.csv",
        [["note_id", "subject_id", "text"], ["a", "20", NOTE], ["b", "21", NOTE, "x", "y"]],
    )
    assert [n.malformed for n in read_all(mimic4_notes(radiology, "radiology"))] == [False, True]


def test_literal_na_texts_are_kept_and_only_empty_cells_are_missing(tmp_path):
    path = tmp_path / "NOTEEVENTS.csv"
    path.write_text(
        "SUBJECT_ID,HADM_ID,CATEGORY,TEXT\n"
        "1,,Radiology,NA\n"
        "2,100,Radiology,null\n"
        "3,101,Radiology,None\n"
        "4,102,Radiology,N/A\n"
        "5,103,Radiology,nan\n"
        '6,104,Radiology,""\n'
        "7,105,Radiology,\n"
        ",106,Radiology,subject left empty\n"
        "NA,107,Radiology,subject given as NA\n",
        encoding="utf-8",
    )
    notes = read_all(mimic3_notes(path))
    assert [n.text for n in notes] == [
        "NA",
        "null",
        "None",
        "N/A",
        "nan",
        None,  # "" (quoted empty): missing
        None,  # nothing at all: missing
        "subject left empty",
        "subject given as NA",
    ]
    # Ids keep pandas' missing values: an empty id (or NA) is missing, a number is its digits.
    assert [n.subject_id for n in notes] == ["1", "2", "3", "4", "5", "6", "7", None, None]
    assert not any(n.malformed for n in notes)


def test_an_unclosed_quote_is_a_user_error_naming_the_line(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(
        f'category,text\nRadiology,"{NOTE}"\nNursing,"patient resting comfortably\nRadiology,x\n'
    )
    with pytest.raises(UserError, match=r"notes.csv: malformed CSV.* line 3 ") as error:
        read_all(table_notes(path, "text", None, None, None))
    assert "resting" not in str(error.value)  # the note's text is never echoed


def mimic4_dir(root, *names: str, gzipped: bool = False):
    """A MIMIC-IV-Note dir holding only the tables ``names``, two notes each."""
    root.mkdir()
    for name in names:
        text = f"note_id,subject_id,text\n{name}-1,30,{name} note one\n{name}-2,31,{name} two\n"
        if gzipped:
            (root / f"{name}.csv.gz").write_bytes(gzip.compress(text.encode()))
        else:
            (root / f"{name}.csv").write_text(text)
    return root


@pytest.mark.parametrize(
    ("present", "gzipped", "absent"),
    [("radiology", False, "discharge"), ("discharge", True, "radiology")],
)
def test_a_mimic4_dir_with_one_table_reads_it_and_says_what_is_missing(
    make_cfg, tmp_path, present, gzipped, absent
):
    directory = mimic4_dir(tmp_path / "note", present, gzipped=gzipped)
    data = make_cfg("task=prepare", "data=mimic", f"data.mimic4_note_dir={directory}").data
    sources = note_sources(data)
    assert len(sources) == 1
    notes = read_all(sources[0]())
    assert [(n.note_type, n.text) for n in notes] == [
        (present, f"{present} note one"),
        (present, f"{present} two"),
    ]
    assert missing_note_tables(data) == [
        f"mimic4_note_dir: no {absent}.csv[.gz]; read {present} only"
    ]


def test_a_mimic4_dir_with_neither_table_is_a_user_error(make_cfg, tmp_path):
    directory = mimic4_dir(tmp_path / "note")
    (directory / "patients.csv").write_text("subject_id\n1\n")
    data = make_cfg("task=prepare", "data=mimic", f"data.mimic4_note_dir={directory}").data
    with pytest.raises(UserError) as error:
        note_sources(data)
    message = str(error.value)
    assert str(directory) in message
    assert "discharge.csv[.gz]" in message and "radiology.csv[.gz]" in message


def test_rag_reads_a_mimic4_dir_with_one_table(make_cfg, tmp_path):
    """The RAG stage reads MIMIC-IV-Note through the same readers: the same rule applies, and
    its alternating test-note sampler takes the one type there is."""
    directory = mimic4_dir(tmp_path / "note", "radiology")
    data = make_cfg("task=prepare", "data=mimic", f"data.mimic4_note_dir={directory}").data
    source = note_source(data, "mimic4")
    assert source.files == (directory / "radiology.csv",)
    notes = list(unique_notes(source))
    assert [(n.patient, n.note_type) for n in notes] == [
        ("mimic4:30", "radiology"),
        ("mimic4:31", "radiology"),
    ]
    # Budget 1 word: the first shuffled note (2 or 3 words) exceeds it, so one note is taken
    # (alternating with the missing type would take none).
    sample = sample_alternating(take_census(notes), budget=1, seed=0)
    assert len(sample.notes) == 1
    assert sample.patients == {notes[sample.notes[0]].patient}
