"""Template rendering shared by the notes and the NER set (which keeps the entity spans).

A template fills ``{slot}`` from a slot pool and ``{slot|type}`` likewise while recording the span
as an entity of that type; feminine words become masculine for male patients.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import lru_cache

SLOT = re.compile(r"\{(\w+)(?:\|(\w+))?\}")
FEMININE_TO_MASCULINE = {
    "she": "he",
    "She": "He",
    "her": "his",
    "Her": "His",
    "herself": "himself",
    "woman": "man",
}
FEMININE_WORD = re.compile(r"\b(" + "|".join(FEMININE_TO_MASCULINE) + r")\b")
Span = tuple[int, int, str]


@lru_cache(maxsize=4096)
def gendered(template: str, male: bool) -> str:
    return (
        FEMININE_WORD.sub(lambda m: FEMININE_TO_MASCULINE[m.group(1)], template)
        if male
        else template
    )


def render(template: str, slots, rng: random.Random, male: bool) -> tuple[str, list[Span]]:
    """Fill ``template``; return the text and the (start, end, type) spans of typed slots."""
    template = gendered(template, male)
    pieces: list[str] = []
    spans: list[Span] = []
    length = 0
    last = 0
    for match in SLOT.finditer(template):
        literal = template[last : match.start()]
        pieces.append(literal)
        length += len(literal)
        value = pick_unused(slots[match.group(1)], rng, pieces)
        if match.group(2):
            spans.append((length, length + len(value), match.group(2)))
        pieces.append(value)
        length += len(value)
        last = match.end()
    pieces.append(template[last:])
    text = "".join(pieces)
    return (text[0].upper() + text[1:] if text else text), spans


def pick(value, rng: random.Random):
    """A string stays; a tuple yields one element drawn at random."""
    if isinstance(value, str):
        return value
    return value[int(rng.random() * len(value))]


def pick_unused(value, rng: random.Random, used: list[str]) -> str:
    """Like :func:`pick`, but retries a few times to avoid repeating a fill within a sentence."""
    choice = pick(value, rng)
    for _ in range(3):
        if choice not in used:
            break
        choice = pick(value, rng)
    return choice


def sample(pool: Sequence, k: int, rng: random.Random) -> list:
    return rng.sample(list(pool), min(k, len(pool)))
