"""De-identification placeholder cleanup and line cleaning (docs/reference.md §1.2)."""

from __future__ import annotations

import re

# A MIMIC-III placeholder such as [**Last Name (NamePattern4) 1604**]; never spans lines.
_PLACEHOLDER = re.compile(r"\[\*\*(.*?)\*\*\]")
_PAREN_GROUP = re.compile(r"\(.*?\)")
# Deleted in this order after the placeholders; '___' also removes MIMIC-IV's placeholder.
_DELETED_MARKS: tuple[str, ...] = ("--", "___", "__", "==")


def _placeholder_text(match: re.Match[str]) -> str:
    """The readable part of a placeholder: its words, minus a trailing id and any (...) group."""
    inner = match.group(1).strip()
    if not inner:
        return ""
    tokens = inner.split()
    if " " in inner and tokens[-1].isnumeric():
        tokens = tokens[:-1]
    return _PAREN_GROUP.sub("", " ".join(tokens)).strip()


def clean_deid(text: str) -> str:
    """Replace ``[**...**]`` placeholders by their cleaned inner text, then delete the marks
    ``--``, ``___``, ``__`` and ``==`` (docs/reference.md §1.2 steps 1-2)."""
    text = _PLACEHOLDER.sub(_placeholder_text, text)
    for mark in _DELETED_MARKS:
        text = text.replace(mark, "")
    return text


def clean_line(text: str) -> str:
    """Strip, then turn newlines into spaces (docs/reference.md §1.2 step 3)."""
    return text.strip().replace("\n", " ")
