"""ClinicalSTS-style sentence pairs (``sts/{train,dev,test}.txt``) scored from semantic frames."""

from __future__ import annotations

import random
from pathlib import Path

from clinicalnotebert.demo.frames import random_finding_frame, random_med_frame, realise
from clinicalnotebert.demo.templates import pick, sample
from clinicalnotebert.demo.vocabulary import WORDS

STS_SPLITS = {"train": 600, "dev": 200, "test": 200}
FINDING_PAIR_SHARE = 0.6  # the rest are medication pairs
# How much each kind of change costs on the 0-5 scale, and which slots it may touch.
STS_MINOR_SLOTS = {"finding": ("site", "severity"), "med": ("dose", "route", "freq")}
STS_MINOR_COST = {"site": 1.6, "severity": 1.1, "dose": 1.4, "route": 0.9, "freq": 1.0}
STS_RELATIONS = (
    ("paraphrase", 0.22),
    ("minor", 0.28),
    ("two_minor", 0.12),
    ("negation", 0.08),
    ("concept", 0.08),
    ("unrelated", 0.22),
)
STS_BASE_SCORE = {"negation": 1.3, "concept": 0.9, "unrelated": 0.2}
STS_SAME_WORDS = {
    "paraphrase": 0.0,
    "minor": 0.7,
    "two_minor": 0.7,
    "negation": 1.0,
    "concept": 0.6,
}
# The vocabulary each frame slot takes its values from.
SLOT_VALUES = {
    ("finding", "finding"): "findings",
    ("finding", "site"): "sites",
    ("finding", "severity"): "severities",
    ("med", "drug"): "drugs",
    ("med", "dose"): "doses",
    ("med", "route"): "routes",
    ("med", "freq"): "freqs",
}


def sts_pair(rng: random.Random) -> tuple[str, str, float]:
    """Two sentences whose score is a graded function of the meaning slots that differ.

    Word overlap is only loosely tied to the score: paraphrases use other templates and
    synonyms (low overlap, high score), while negation flips and concept swaps keep the wording
    (high overlap, low score).
    """
    kind = "finding" if rng.random() < FINDING_PAIR_SHARE else "med"
    frame = random_finding_frame(rng) if kind == "finding" else random_med_frame(rng)
    relation = rng.choices([r for r, _ in STS_RELATIONS], weights=[w for _, w in STS_RELATIONS])[0]
    if relation == "unrelated":
        other = random_med_frame(rng) if kind == "finding" else random_finding_frame(rng)
        first = realise(frame, rng, None, None)
        second = realise(other, rng, None, None)
        return first, second, clip_score(STS_BASE_SCORE[relation] + rng.uniform(-0.2, 0.3))
    other, score = dict(frame), STS_BASE_SCORE.get(relation, 5.0)
    if relation in ("minor", "two_minor"):
        for slot in sample(STS_MINOR_SLOTS[kind], 1 if relation == "minor" else 2, rng):
            other[slot] = changed_value(kind, slot, frame[slot], rng)
            score -= STS_MINOR_COST[slot]
    elif relation == "negation":
        other["negated"] = True
    elif relation == "concept":
        main = "finding" if kind == "finding" else "drug"
        other[main] = changed_value(kind, main, frame[main], rng)
    same_words = rng.random() < STS_SAME_WORDS[relation]
    synonyms = rng.randrange(10**6)
    template = rng.randrange(60)
    first = realise(frame, rng, template, synonyms)
    # Every template list has at least five entries, so an offset of 1-4 changes the template.
    other_template = template if same_words else template + 1 + rng.randrange(4)
    second = realise(other, rng, other_template, synonyms if same_words else synonyms + 1)
    return first, second, clip_score(score + rng.uniform(-0.35, 0.25))


def changed_value(kind: str, slot: str, current: str, rng: random.Random) -> str:
    choices = getattr(WORDS, SLOT_VALUES[(kind, slot)])
    return pick(tuple(c for c in choices if c != current), rng)


def clip_score(score: float) -> float:
    return round(min(5.0, max(0.0, score)), 1)


def write_sts(directory: Path, seed: int) -> dict[str, int]:
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, n in STS_SPLITS.items():
        rng = random.Random(f"sts:{seed}:{split}")
        lines = [f"{a}\t{b}\t{score:.1f}" for a, b, score in (sts_pair(rng) for _ in range(n))]
        (directory / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        counts[f"sts/{split}.txt"] = n
    return counts
