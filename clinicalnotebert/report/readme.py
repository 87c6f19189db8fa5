"""Splice the results table into a Markdown document between two marker comments."""

from __future__ import annotations

from clinicalnotebert.errors import UserError

START = "<!-- demo-results:start -->"
END = "<!-- demo-results:end -->"


def splice(document: str, block: str) -> str:
    """``document`` with the text between ``START`` and ``END`` replaced by ``block``."""
    start, end = document.find(START), document.find(END)
    if start < 0 or end < start:
        raise UserError(f"the document has no '{START}' ... '{END}' block to fill")
    return document[: start + len(START)] + "\n" + block.strip() + "\n" + document[end:]
