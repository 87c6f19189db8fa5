"""Note-type mapping: MIMIC-III exact categories (docs/reference.md §1.1) and the generic keyword rule."""

from __future__ import annotations

import math

import pytest
from omegaconf import OmegaConf

from clinicalnotebert.corpus.note_types import (
    NOTE_TYPE_IDS,
    NOTE_TYPES,
    keyword_note_type,
    mimic3_note_type,
    validate_category_map,
)
from clinicalnotebert.errors import UserError


def test_note_types_order_is_the_ntp_label_order():
    assert NOTE_TYPES == ("discharge", "radiology", "nursing", "physician", "others")
    assert NOTE_TYPE_IDS == {
        "discharge": 0,
        "radiology": 1,
        "nursing": 2,
        "physician": 3,
        "others": 4,
    }


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Discharge summary", "discharge"),
        ("Radiology", "radiology"),
        ("Nursing/other", "nursing"),
        ("Nursing", "nursing"),
        ("Physician ", "physician"),  # the MIMIC-III value really ends with a space
        ("Physician", "others"),  # ... so the stripped spelling is not a match
        ("Discharge Summary", "others"),  # exact match: case matters
        (" Radiology", "others"),  # and surrounding spaces are not stripped
        ("ECG", "others"),
        ("Echo", "others"),
        ("Respiratory ", "others"),
        ("Nutrition", "others"),
        ("General", "others"),
        ("Rehab Services", "others"),
        ("Social Work", "others"),
        ("Case Management ", "others"),
        ("Consult", "others"),
        ("Pharmacy", "others"),
        (None, "others"),
        (math.nan, "others"),
    ],
)
def test_mimic3_note_type(category, expected):
    assert mimic3_note_type(category) == expected


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Discharge Summary", "discharge"),
        ("RADIOLOGY REPORT", "radiology"),
        ("Radiologic exam", "radiology"),
        ("Nursing/other", "nursing"),
        ("nurse note", "nursing"),
        ("Physician ", "physician"),
        ("SOAP / Chart / Progress Notes", "physician"),
        ("Consult - History and Phy.", "others"),
        ("Surgery", "others"),
        ("", "others"),
        ("   ", "others"),
        (None, "others"),
        (math.nan, "others"),
    ],
)
def test_keyword_note_type_default_rule(category, expected):
    assert keyword_note_type(category) == expected


def test_keyword_rule_order_discharge_before_nursing():
    # Both keywords occur; 'discharge' is checked first.
    assert keyword_note_type("Nursing discharge planning") == "discharge"


def test_category_map_overrides_keywords_exact_key_first():
    mapping = {"Consult - History and Phy.": "physician", "Radiology": "others"}
    assert keyword_note_type("Consult - History and Phy.", mapping) == "physician"
    # The map wins over the keyword rule ('radiolog' would say radiology).
    assert keyword_note_type("Radiology", mapping) == "others"


def test_category_map_matches_up_to_case_and_spaces():
    mapping = {" consult ": "physician"}
    assert keyword_note_type("CONSULT", mapping) == "physician"
    assert keyword_note_type("Consult  ", mapping) == "physician"


def test_exact_key_beats_case_insensitive_key():
    mapping = {"radiology": "discharge", "Radiology": "nursing"}
    assert keyword_note_type("Radiology", mapping) == "nursing"
    assert keyword_note_type("radiology", mapping) == "discharge"


def test_category_missing_from_map_falls_back_to_keywords():
    mapping = {"Consult": "physician"}
    assert keyword_note_type("Discharge summary", mapping) == "discharge"
    assert keyword_note_type("Letters", mapping) == "others"
    assert keyword_note_type(None, mapping) == "others"


def test_category_map_with_a_bad_value_is_a_user_error():
    with pytest.raises(UserError, match=r"data\.category_map.*'Consult'.*'doctor'"):
        keyword_note_type("Consult", {"Consult": "doctor"})


def test_validate_category_map():
    assert validate_category_map({"Consult": "physician"}) == {"Consult": "physician"}
    assert validate_category_map(None) == {}
    assert validate_category_map(OmegaConf.create({"ECG": "others"})) == {"ECG": "others"}
    with pytest.raises(UserError, match=r"data\.category_map.*'Echo'.*'Radiology'"):
        validate_category_map({"ECG": "others", "Echo": "Radiology"})
    with pytest.raises(UserError, match=r"data\.category_map.*mapping.*list"):
        validate_category_map(["discharge"])
