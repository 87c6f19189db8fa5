"""Bad input to task=prepare: fatal problems are one `error:` line (exit 2); row problems are counted."""

from __future__ import annotations

import csv
import json

import pytest

from clinicalnotebert.errors import UserError
from tests.helpers import assert_user_error

NOTE = (
    "HISTORY OF PRESENT ILLNESS: The patient is a 64 year old man admitted with chest pain "
    "radiating to the left arm, relieved by nitroglycerin in the emergency department. "
    "He denies shortness of breath, nausea or diaphoresis at this time."
)


def csv_args(path, *extra: str) -> list[str]:
    return ["task=prepare", "data=csv", f"data.path={path}", "tokenizer.vocab_size=200", *extra]


def write_notes(path, rows: list[tuple[str, str]]):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "text"])
        writer.writerows(rows)
    return path


def test_missing_file_is_one_error_line(cli, tmp_path):
    result = cli(*csv_args(tmp_path / "nope.csv"))
    assert_user_error(result, "nope.csv", "does not exist")


def test_missing_column_names_file_and_column(cli, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("category,body\nRadiology,some text\n")
    result = cli(*csv_args(path))
    assert_user_error(result, "notes.csv", "missing column 'text'")


def test_a_file_without_header_never_echoes_its_first_note(run_in_process, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(f"Radiology,{NOTE}\n")
    with pytest.raises(UserError, match="first line does not look like a header") as error:
        run_in_process(*csv_args(path))
    assert "chest pain" not in str(error.value)
    assert "Radiology" not in str(error.value)


def test_a_cut_off_gzip_file_is_a_user_error(run_in_process, tmp_path):
    import gzip

    whole = gzip.compress(("category,text\n" + f"Radiology,{NOTE}\n" * 2000).encode())
    path = tmp_path / "notes.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UserError, match="notes.csv.gz: cannot read"):
        run_in_process(*csv_args(path))


def test_empty_file(run_in_process, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(UserError, match="empty.csv: file is empty"):
        run_in_process(*csv_args(path))


def test_header_only_file_has_no_usable_notes(run_in_process, tmp_path, shared_data):
    with pytest.raises(UserError, match="no usable notes"):
        run_in_process(
            "task=prepare", "data=mimic", f"data.mimic3_dir={shared_data / 'mimic3_demo'}"
        )


def test_bad_category_map_value_names_the_key(cli, tmp_path):
    path = write_notes(tmp_path / "notes.csv", [("Radiology", NOTE)])
    result = cli(
        *csv_args(path, "data.category_column=category", "+data.category_map={Radiology: xray}")
    )
    assert_user_error(result, "data.category_map", "xray")


def test_bad_shard_spec(run_in_process, tmp_path):
    path = write_notes(tmp_path / "notes.csv", [("Radiology", NOTE)])
    with pytest.raises(UserError, match="prepare.shard"):
        run_in_process(*csv_args(path, "prepare.shard=3/2"))


def test_row_problems_are_counted_and_skipped(run_in_process, tmp_path):
    path = tmp_path / "notes.csv"
    write_notes(
        path,
        [
            ("Radiology", NOTE),
            ("Radiology", NOTE),  # duplicate of the same type
            ("Nursing", NOTE),  # same text, other type: kept
            ("Radiology", ""),  # empty
            ("Radiology", "   \n  "),  # whitespace only
            ("Mystery category", NOTE + " Unknown categories fall back to others."),
            ("Radiology", "x" * 5_000_000),  # a 5 MB note
        ],
    )
    with open(path, "ab") as handle:  # a row with Latin-1 bytes (not UTF-8)
        handle.write(b'Radiology,"caf\xe9 au lait spots noted on the trunk"\n')
    metrics = run_in_process(*csv_args(path, "data.category_column=category"))
    assert metrics["notes_read"] == 8
    assert metrics["notes_kept"] == 3
    assert metrics["dropped.duplicate"] == 1
    assert metrics["dropped.empty"] == 2
    assert metrics["dropped.too_long"] == 1
    assert metrics["dropped.invalid_utf8"] == 1
    assert (metrics["notes.radiology"], metrics["notes.nursing"], metrics["notes.others"]) == (
        1,
        1,
        1,
    )


def test_jsonl_with_a_malformed_line(run_in_process, tmp_path):
    path = tmp_path / "notes.jsonl"
    lines = [
        json.dumps({"text": NOTE, "category": "Discharge summary"}),
        "{not json",
        json.dumps({"text": None}),
    ]
    path.write_text("\n".join(lines) + "\n")
    metrics = run_in_process(*csv_args(path, "data.category_column=category"))
    assert metrics["notes_read"] == 3
    assert metrics["dropped.malformed"] == 1 and metrics["dropped.empty"] == 1
    assert metrics["notes.discharge"] == 1


def test_unknown_model_size_is_one_error_line(cli):
    assert_user_error(cli("task=prepare", "model=huge"), "unknown model 'huge'", "micro")


def test_missing_required_value_is_one_error_line(cli):
    assert_user_error(cli("task=prepare", "data=csv"), "data.path")


@pytest.mark.parametrize(
    ("override", "message"),
    [("prepare.num_proc=two", "prepare.num_proc: expected a whole number (got 'two')"),
     ("prepare.dedup=maybe", "prepare.dedup: expected true or false")],
)  # fmt: skip
def test_a_setting_of_the_wrong_type_is_one_error_line(cli, override, message):
    assert_user_error(cli("task=prepare", "data=csv", "data.path=x.csv", override), message)


def summary_text(capsys) -> str:
    """What the run printed, with the console's line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


def test_malformed_rows_and_literal_na_texts_in_metrics_and_summary(
    run_in_process, tmp_path, capsys
):
    path = tmp_path / "notes.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "text"])
        writer.writerow(["Radiology", NOTE])  # kept
        writer.writerow(["Nursing", NOTE + " Second note.", "extra field"])  # malformed
        writer.writerow(["Radiology"])  # malformed: no text field
        writer.writerow(["Radiology", "NA"])  # kept: the text is "NA"
        writer.writerow(["Nursing", "null"])  # kept
        writer.writerow(["Radiology", ""])  # empty
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('Radiology,""\n')  # empty (quoted)
    metrics = run_in_process(*csv_args(path, "data.category_column=category"))
    assert metrics["notes_read"] == 7
    assert metrics["dropped.malformed"] == 2
    assert metrics["dropped.empty"] == 2
    assert metrics["notes_kept"] == 3
    assert (metrics["notes.radiology"], metrics["notes.nursing"]) == (2, 1)
    assert metrics["sources.missing"] == 0
    assert "dropped by reason: empty: 2, malformed: 2" in summary_text(capsys)


def test_a_mimic4_dir_with_only_radiology_is_read_and_the_gap_reported(
    run_in_process, tmp_path, capsys
):
    directory = tmp_path / "note"
    directory.mkdir()
    with open(directory / "radiology.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["note_id", "subject_id", "text"])
        writer.writerows([[f"r-{i}", str(100 + i), f"{NOTE} Film {i}."] for i in range(3)])
    metrics = run_in_process(
        "task=prepare",
        "data=mimic",
        f"data.mimic4_note_dir={directory}",
        "tokenizer.vocab_size=200",
    )
    assert metrics["notes_read"] == metrics["notes.radiology"] == 3
    assert metrics["notes.discharge"] == 0
    assert metrics["sources.missing"] == 1
    assert "mimic4_note_dir: no discharge.csv[.gz]; read radiology only" in summary_text(capsys)
