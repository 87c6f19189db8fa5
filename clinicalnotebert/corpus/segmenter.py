"""Heuristic clinical note segmenter (docs/reference.md §1.3).

Willie Boag's mimic-tokenize rules as ClinicalBERT used them, with both of ClinicalBERT's known
bugs fixed: list items are found with an escaped '.' (step 5), and a one-line segment after a
title is kept rather than dropped (step 7). Steps, in order:

1. separators: runs of 3+ '-' / '_' become their own '-----' / '_____' block; split on blank lines;
2. the 'Admission Date: .. Discharge Date: ..' and 'Date of Birth: .. Sex: ..' header lines;
3. section titles ('Chief Complaint:') split a block into prefix, title and rest;
4. '_____' / '-----' lines inside a block;
5. enumerated lists ('1.', '2.', ...) split into one segment per item;
6. lines that start with an inline title ('Plan: ...') start a new segment;
7. a one-line answer joins the title before it when the next segment is a title or the end.

No pattern here can backtrack catastrophically: the scans over whole blocks are possessive
where they could backtrack, and list items are found in one pass.
"""

from __future__ import annotations

import re

_DASH_RUN = re.compile(r"---+")
_UNDERSCORE_RUN = re.compile(r"___+")
_BLANK_LINES = re.compile(r"\n\n+")
_DASH_SEPARATOR = "-----"
_UNDERSCORE_SEPARATOR = "_____"
_HEADER_LINES: tuple[re.Pattern[str], ...] = (
    re.compile(r"(Admission Date:) (.*) (Discharge Date:) (.*)"),
    re.compile(r"(Date of Birth:) (.*) (Sex:) (.*)"),
)
_TITLE_CANDIDATE = re.compile(r"\n([A-Z][^\n:]++:)")
_INLINE_TITLE = re.compile(r"([a-zA-Z ]++:) ")
_PAREN_GROUP = re.compile(r"\([^)]*\)")
_TITLE_STOPWORDS = frozenset({"of", "on", "or"})
# An enumerator at a line start. The reference writes \n\s*(\d+)\.; matching from the last
# newline of a whitespace run finds the same items, cut points equal up to stripped
# whitespace, without rescanning blank-line runs from every newline in them.
_LIST_ITEM = re.compile(r"\n[^\S\n]*+(\d++)\.")


def is_title(text: str) -> bool:
    """A section title: ends with ':', and after dropping (...) groups every word other than
    of/on/or starts with an uppercase letter; 'Disp:' (a medication field) is not one."""
    if not text.endswith(":"):
        return False
    name = _PAREN_GROUP.sub("", text[:-1])
    if name == "Disp":
        return False
    return all(word[0].isupper() for word in name.split() if word not in _TITLE_STOPWORDS)


def is_separator_segment(segment: str) -> bool:
    """A segment made only of '_' or only of '-' (after stripping)."""
    stripped = segment.strip()
    return bool(stripped) and (not stripped.strip("_") or not stripped.strip("-"))


def stripped_pieces(text: str, cuts: list[int]) -> list[str]:
    """The non-empty stripped pieces of ``text`` between the ascending positions ``cuts``."""
    bounds = zip([0, *cuts], [*cuts, len(text)], strict=True)
    pieces = (text[begin:end].strip() for begin, end in bounds)
    return [piece for piece in pieces if piece]


def _is_inline_title(line: str) -> bool:
    match = _INLINE_TITLE.match(line)
    return match is not None and is_title(match.group(1))


def _blocks(text: str) -> list[str]:
    """Step 1: separators become blocks of their own; blocks are split on blank lines."""
    text = _DASH_RUN.sub(f"\n\n{_DASH_SEPARATOR}\n\n", text)
    text = _UNDERSCORE_RUN.sub(f"\n\n{_UNDERSCORE_SEPARATOR}\n\n", text)
    return _BLANK_LINES.sub("\n\n", text).split("\n\n")


def _header_line_fields(blocks: list[str]) -> tuple[list[str], list[str]]:
    """Step 2: the special header lines at the top, as their four fields, and the other blocks."""
    fields: list[str] = []
    for pattern in _HEADER_LINES:
        match = pattern.match(blocks[0]) if blocks else None
        if match:
            fields.extend(group.strip() for group in match.groups())
            blocks = blocks[1:]
    return fields, blocks


def _split_titles(block: str) -> list[str]:
    """Step 3: cut a block at each section title into prefix, title and the rest."""
    titles = [title for title in _TITLE_CANDIDATE.findall("\n" + block) if is_title(title)]
    pieces: list[str] = []
    position = 0
    for title in titles:
        # Its first occurrence in the rest, as in the reference (not necessarily a line start).
        index = block.index(title, position)
        prefix = block[position:index].strip()
        if prefix:
            pieces.append(prefix)
        pieces.append(title)
        position = index + len(title)
    rest = block[position:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _split_separator_lines(segments: list[str], separator: str) -> list[str]:
    """Step 4: a separator line inside a segment becomes a segment between the two parts."""
    result: list[str] = []
    for segment in segments:
        first, *others = segment.split(f"\n{separator}\n")
        result.append(first)
        for part in others:
            result.extend((separator, part))
    return result


def _split_list_items(segment: str) -> list[str]:
    """Step 5: one segment per item of a list numbered start, start+1, ..., n (n >= 1)."""
    text = "\n" + segment
    items = list(_LIST_ITEM.finditer(text))
    if not items:
        return [segment]
    numbers = {item.group(1) for item in items}
    start = int(items[0].group(1))
    last = start
    while str(last) in numbers:
        last += 1
    last -= 1
    if last < 1:
        return [segment]
    # The reference cuts before the first enumerator n - start + 1 times, whatever its number.
    return stripped_pieces(text, [item.start() for item in items[: last - start + 1]])


def _split_inline_titles(segment: str) -> list[str]:
    """Step 6: a line that starts with an inline title ('Plan: ...') starts a new segment."""
    pieces: list[str] = []
    lines: list[str] = []
    for line in segment.split("\n"):
        if lines and _is_inline_title(line):
            pieces.append("\n".join(lines))
            lines = []
        lines.append(line)
    pieces.append("\n".join(lines))
    return pieces


def _attach_one_line_answers(segments: list[str]) -> list[str]:
    """Step 7: 'Title:' + one-line answer -> 'Title: answer' when a title or the end follows."""
    titles = [is_title(segment) for segment in segments]
    last = len(segments) - 1
    result: list[str] = []
    for i, segment in enumerate(segments):
        if (
            i > 0
            and "\n" not in segment
            and titles[i - 1]
            and not titles[i]
            and (i == last or titles[i + 1])
        ):
            result[-1] = f"{segments[i - 1]} {segment}"
        else:
            result.append(segment)
    return result


def segment_note(text: str) -> list[str]:
    """Split a (de-id cleaned) note into segments: titles, list items, paragraphs, separators."""
    segments, blocks = _header_line_fields(_blocks(text))
    segments += [piece for block in blocks for piece in _split_titles(block)]
    segments = _split_separator_lines(segments, _UNDERSCORE_SEPARATOR)
    segments = _split_separator_lines(segments, _DASH_SEPARATOR)
    segments = [piece for segment in segments for piece in _split_list_items(segment)]
    segments = [piece for segment in segments for piece in _split_inline_titles(segment)]
    return _attach_one_line_answers(segments)
