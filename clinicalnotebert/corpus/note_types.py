"""The five note types (docs/reference.md §1.1) and the rules that map a source category onto them."""

from __future__ import annotations

import math
from collections.abc import Mapping

from clinicalnotebert.errors import UserError

# The order doubles as the note-type-prediction label ids (0..4).
NOTE_TYPES: tuple[str, ...] = ("discharge", "radiology", "nursing", "physician", "others")
NOTE_TYPE_IDS: dict[str, int] = {name: index for index, name in enumerate(NOTE_TYPES)}

# MIMIC-III CATEGORY values, matched exactly: 'Physician ' really ends with a space.
_MIMIC3_CATEGORY_TYPES: dict[str, str] = {
    "Discharge summary": "discharge",
    "Radiology": "radiology",
    "Nursing/other": "nursing",
    "Nursing": "nursing",
    "Physician ": "physician",
}

# Default rule for generic sources: the first keyword found (case-insensitive) wins.
_CATEGORY_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("discharge", "discharge"),
    ("radiolog", "radiology"),
    ("nurs", "nursing"),
    ("physician", "physician"),
    ("progress", "physician"),
)

_CATEGORY_MAP_KEY = "data.category_map"


def mimic3_note_type(category: str | None) -> str:
    """Map a MIMIC-III ``CATEGORY`` value to a note type by exact string match (no stripping)."""
    if not isinstance(category, str):
        return "others"
    return _MIMIC3_CATEGORY_TYPES.get(category, "others")


def _category_text(category: object) -> str:
    """The category as text; None and NaN (pandas' missing value) become ''."""
    if category is None or (isinstance(category, float) and math.isnan(category)):
        return ""
    return category if isinstance(category, str) else str(category)


def _checked_note_type(category: object, note_type: object) -> str:
    if note_type not in NOTE_TYPE_IDS:
        raise UserError(
            f"{_CATEGORY_MAP_KEY}: category {category!r} maps to {note_type!r}, "
            f"which is not one of {', '.join(NOTE_TYPES)}"
        )
    return note_type


def validate_category_map(mapping: Mapping | None) -> dict[str, str]:
    """Check a user's ``category -> note type`` map and return it as a plain dict."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise UserError(
            f"{_CATEGORY_MAP_KEY}: expected a mapping of category -> note type, "
            f"got {type(mapping).__name__}"
        )
    return {str(key): _checked_note_type(key, value) for key, value in mapping.items()}


def _mapped_note_type(category: str, mapping: Mapping[str, str]) -> str | None:
    """The mapped type: an exact key first, then a key equal up to case and surrounding spaces."""
    if category in mapping:
        return _checked_note_type(category, mapping[category])
    wanted = category.strip().casefold()
    for key, note_type in mapping.items():
        if str(key).strip().casefold() == wanted:
            return _checked_note_type(key, note_type)
    return None


def keyword_note_type(category: str | None, mapping: Mapping[str, str] | None = None) -> str:
    """Note type of a generic source's category: the user's ``mapping`` first, then keywords.

    Keywords (case-insensitive substrings): 'discharge', 'radiolog', 'nurs', 'physician' or
    'progress'; anything else, including a missing or empty category, is 'others'.
    """
    text = _category_text(category)
    if mapping:
        mapped = _mapped_note_type(text, mapping)
        if mapped is not None:
            return mapped
    lowered = text.casefold()
    for keyword, note_type in _CATEGORY_KEYWORDS:
        if keyword in lowered:
            return note_type
    return "others"
