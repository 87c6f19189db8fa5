"""STS readers: both layouts, literal quotes, extra fields, file:line errors."""

from __future__ import annotations

import re

import pytest

from clinicalnotebert.errors import UserError
from clinicalnotebert.sts.readers import detect_layout, read_pairs, split_file


def write(path, *lines: str):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_clinicalsts_layout_skips_blank_lines(tmp_path):
    path = write(tmp_path / "dev.txt", "a b\tc d\t4.5", "", "e\tf\t0", "g h\ti\t2.25")
    pairs = read_pairs(path)
    assert pairs.first == ["a b", "e", "g h"]
    assert pairs.second == ["c d", "f", "i"]
    assert pairs.scores.tolist() == [4.5, 0.0, 2.25]


def test_stsb_layout_quotes_are_literal_and_extra_fields_ignored(tmp_path):
    path = write(
        tmp_path / "sts-dev.csv",
        'g\tf\t2016\t0001\t4\tSay "hi\tHe said "hi".\tsource one\tsource two',
        "g\tf\t2012\t0002\t1.5\tx\ty",
    )
    pairs = read_pairs(path)
    assert pairs.first == ['Say "hi', "x"]
    assert pairs.second == ['He said "hi".', "y"]
    assert pairs.scores.tolist() == [4.0, 1.5]


def test_real_stsbenchmark_files(shared_data):
    root = shared_data / "stsbenchmark"
    sizes = {
        split: len(read_pairs(root / f"sts-{split}.csv")) for split in ("train", "dev", "test")
    }
    assert sizes == {"train": 5749, "dev": 1500, "test": 1379}
    test = read_pairs(root / "sts-test.csv")
    # Line 649 has 9 fields and an unbalanced quote (checked by eye in the file).
    assert test.second[648] == 'I always go by the rule "When in doubt, throw it out!'
    assert test.scores[648] == 4.0
    assert (test.first[0], test.second[0], test.scores[0]) == (
        "A girl is styling her hair.",
        "A girl is brushing her hair.",
        2.5,
    )


@pytest.mark.parametrize(
    ("name", "lines", "where", "what"),
    [
        ("train.txt", ["a\tb\t1", "a\tb\t2", "only one\t3"], ":3:", "expected 3"),
        ("train.txt", ["a\tb\t1", "a\tb\thigh"], ":2:", "field 3 (the score) is not a number"),
        ("train.txt", ["a\tb\tnan"], ":1:", "not a number"),
        ("train.txt", ["a\tb\t1\textra"], ":1:", "found 4"),
        ("sts-train.csv", ["g\tf\t2012\t1\t2.0\tonly s1"], ":1:", "found 6"),
        ("sts-train.csv", ["g\tf\t2012\t1\tfive\ts1\ts2"], ":1:", "field 5 (the score) is not"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, name, lines, where, what):
    path = write(tmp_path / name, *lines)
    with pytest.raises(UserError) as error:
        read_pairs(path)
    message = str(error.value)
    assert f"{path}{where}" in message
    assert what in message
    assert "high" not in message and "five" not in message  # field contents never echoed


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_pairs(tmp_path / "nope.txt")
    with pytest.raises(UserError, match="no sentence pairs"):
        read_pairs(write(tmp_path / "empty.txt", ""))


def test_layout_detection_and_split_files(tmp_path):
    assert detect_layout(tmp_path / "x.csv") == "stsb"
    assert detect_layout(tmp_path / "x.txt") == "clinicalsts"
    assert detect_layout(tmp_path / "x.txt", "stsb") == "stsb"
    with pytest.raises(UserError, match="sts.layout 'tsv'"):
        detect_layout(tmp_path / "x.txt", "tsv")
    write(tmp_path / "dev.txt", "a\tb\t1")
    write(tmp_path / "sts-test.csv", "g\tf\t2012\t1\t2.0\ts1\ts2")
    assert split_file(tmp_path, "dev") == tmp_path / "dev.txt"
    assert split_file(tmp_path, "test") == tmp_path / "sts-test.csv"
    with pytest.raises(UserError, match=r"no train file \(train.txt or sts-train.csv\)"):
        split_file(tmp_path, "train")


@pytest.mark.parametrize("good_lines", [2, 5000])  # the bad byte within / past the read-ahead
def test_a_non_utf8_byte_names_its_file_and_line(tmp_path, good_lines):
    path = tmp_path / "train.txt"
    good = "".join(f"sentence {i} one\tsentence {i} two\t{i % 5}\n" for i in range(good_lines))
    path.write_bytes(good.encode() + b"caf\xe9 au lait\tspots\t3\n" + b"a\tb\t1\n")
    with pytest.raises(UserError) as error:
        read_pairs(path)
    message = str(error.value)
    assert message.startswith(f"{path}: not valid UTF-8")
    # The bad byte (0xe9, Latin-1) is the 4th character of line good_lines + 1.
    assert re.search(rf"\bline {good_lines + 1}, column 4\b", message), message
    assert "caf" not in message.replace(str(path), "")  # the text is never echoed
