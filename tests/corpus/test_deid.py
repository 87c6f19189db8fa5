"""De-id placeholder cleanup and line cleaning (docs/reference.md §1.2)."""

from __future__ import annotations

import pytest

from clinicalnotebert.corpus.deid import clean_deid, clean_line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The reference's own examples (docs/reference.md §1.2).
        ("[**Last Name (NamePattern4) 1604**]", "Last Name"),
        ("[**MD Number(1) 1605**]", "MD Number"),
        ("[**2101-11-5**]", "2101-11-5"),
        # Empty and blank placeholders vanish.
        ("[****]", ""),
        ("[**   **]", ""),
        # A trailing numeric id is dropped only when there is a space.
        ("[**Hospital1 18**]", "Hospital1"),
        ("[**1234**]", "1234"),
        # No numeric id: words re-joined with single spaces, (...) removed, stripped.
        ("[**First Name8 (NamePattern2) **]", "First Name8"),
        ("[**Doctor   First Name**]", "Doctor First Name"),
        ("[**Telephone/Fax (1) 3502**]", "Telephone/Fax"),
    ],
)
def test_placeholder_cleanup(text, expected):
    assert clean_deid(text) == expected


def test_placeholders_inside_text():
    text = "Seen by Dr. [**Last Name (STitle) 123**] on [**2101-1-1**] at [**Hospital1 18**]."
    assert clean_deid(text) == "Seen by Dr. Last Name on 2101-1-1 at Hospital1."
    assert clean_deid("a [****] b") == "a  b"


def test_unclosed_placeholder_is_left_alone():
    assert clean_deid("see [**Name and more text") == "see [**Name and more text"


def test_mimic4_placeholders_and_marks_are_deleted():
    assert clean_deid("Name:  ___   Unit No:   ___") == "Name:     Unit No:   "
    assert clean_deid("a--b==c") == "abc"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("----", ""),  # two '--'
        ("-----", "-"),  # two '--' and one '-' left over
        ("____", "_"),  # one '___' and one '_'
        ("_____", ""),  # '___' then '__'
        ("=====", "="),
        # The marks are deleted one kind after the other, in the reference's order (docs/reference.md §1.2): deleting '__'
        # creates '==', which the later '==' pass removes; '--' was already done.
        ("=__=", ""),
        ("-__-", "--"),
    ],
)
def test_marks_are_deleted_in_order(text, expected):
    assert clean_deid(text) == expected


def test_clean_line_strips_then_joins_lines():
    assert clean_line("  first\nsecond  \n") == "first second"
    assert clean_line("\n\nonly\n") == "only"
    assert clean_line("a \n b") == "a   b"
    assert clean_line(" \n ") == ""
