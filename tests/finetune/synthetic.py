"""Small, learnable task files made in the tests: MedNLI-style pairs and RadGraph-style reports."""

from __future__ import annotations

import random
from pathlib import Path

from tests.finetune.files import write_jsonl

FINDINGS = ["effusion", "opacity", "consolidation", "edema", "atelectasis"]
SIZES = ["small", "large", "mild", "moderate"]
SIDES = ["left", "right", "bilateral"]
ORGANS = ["lung", "base", "apex", "lobe"]
DISEASES = ["pneumonia", "infection", "aspiration"]
ANSWERS = {"entailment": "yes indeed", "neutral": "maybe so", "contradiction": "no never"}


def write_nli(directory: Path, sizes: dict[str, int], seed: int = 0) -> Path:
    """Pairs whose label shows in the second sentence's wording (an easy, learnable rule)."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    labels = list(ANSWERS)
    for split, size in sizes.items():
        rows = []
        for i in range(size):
            label = labels[i % 3]
            premise = f"{rng.choice(SIZES)} {rng.choice(FINDINGS)} in the {rng.choice(ORGANS)}"
            rows.append({"sentence1": premise, "sentence2": ANSWERS[label], "gold_label": label})
        write_jsonl(directory / f"mli_{split}_v1.jsonl", rows)
    return directory


def located_sentence(start: int, rng: random.Random):
    """'<size> <finding> in <side> <organ> .' with modify / located_at relations."""
    words = [
        rng.choice(SIZES),
        rng.choice(FINDINGS),
        "in",
        rng.choice(SIDES),
        rng.choice(ORGANS),
        ".",
    ]
    s = start
    entities = [[s, s, "OBS-DP"], [s + 1, s + 1, "OBS-DP"], [s + 3, s + 4, "ANAT-DP"]]
    relations = [[s, s, s + 1, s + 1, "modify"], [s + 1, s + 1, s + 3, s + 4, "located_at"]]
    return words, entities, relations


def suggestive_sentence(start: int, rng: random.Random):
    """'<finding> may represent <disease> .' with a suggestive_of relation."""
    words = [rng.choice(FINDINGS), "may", "represent", rng.choice(DISEASES), "."]
    s = start
    entities = [[s, s, "OBS-DP"], [s + 3, s + 3, "OBS-U"]]
    return words, entities, [[s, s, s + 3, s + 3, "suggestive_of"]]


def negated_sentence(start: int, rng: random.Random):
    """'no <finding> .': an absent observation, no relation."""
    return ["no", rng.choice(FINDINGS), "."], [[start + 1, start + 1, "OBS-DA"]], []


def report(key: str, rng: random.Random) -> dict:
    doc = {"doc_key": key, "sentences": [], "ner": [], "relations": []}
    start = 0
    for make in (located_sentence, suggestive_sentence, negated_sentence):
        words, entities, relations = make(start, rng)
        doc["sentences"].append(words)
        doc["ner"].append(entities)
        doc["relations"].append(relations)
        start += len(words)
    return doc


def write_radgraph(directory: Path, sizes: dict[str, int], seed: int = 0) -> Path:
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for split, size in sizes.items():
        write_jsonl(directory / f"{split}.jsonl", [report(f"{split}{i}", rng) for i in range(size)])
    return directory
