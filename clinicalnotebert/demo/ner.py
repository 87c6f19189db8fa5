"""The NER set (``finetune/ner/{train,devel,test}.tsv``): i2b2-2010 types in BIO tags.

Its sentences are rendered from the note templates, so its entities are the notes' entities and
the tags are exactly the spans of the typed slots.
"""

from __future__ import annotations

import re
from pathlib import Path

from clinicalnotebert.demo.notes.writer import Writer
from clinicalnotebert.demo.patients import draw_patient, patient_rng
from clinicalnotebert.demo.templates import pick, render
from clinicalnotebert.demo.vocabulary import WORDS

NER_SPLITS = {"train": 800, "devel": 200, "test": 200}
SENTENCES_PER_PATIENT = 6
NER_TEMPLATES = (
    *WORDS.hpi_sentences,
    *WORDS.plan_sentences,
    *WORDS.course_sentences,
    *WORDS.consult_sentences,
    *WORDS.pharmacy_sentences,
    *(t for tier in WORDS.cues for t in tier),
    *(t for cues in WORDS.flag_cues.values() for t in cues),
    *(t for pool in WORDS.nursing_systems.values() for t in pool),
)
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'./][A-Za-z0-9]+)*|\S")


def ner_sentence(writer: Writer) -> list[tuple[str, str]]:
    """One sentence as (token, BIO tag) pairs; tags come from the slots the template typed."""
    text, spans = render(
        pick(NER_TEMPLATES, writer.rng), writer.slots, writer.rng, writer.patient.male
    )
    tagged = []
    for match in TOKEN.finditer(text):
        tag = "O"
        for start, end, kind in spans:
            if start <= match.start() and match.end() <= end:
                tag = f"{'B' if match.start() == start else 'I'}-{kind}"
        tagged.append((match.group(), tag))
    return tagged


def write_ner(directory: Path, seed: int) -> dict[str, int]:
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, n in NER_SPLITS.items():
        blocks = []
        index = 0
        while len(blocks) < n:
            patient = draw_patient(index, seed, source=f"ner-{split}")
            index += 1
            if patient.kind != "adult":
                continue
            writer = Writer(
                patient, patient.admissions[0], patient_rng(f"ner-{split}", seed, index)
            )
            for _ in range(min(SENTENCES_PER_PATIENT, n - len(blocks))):
                blocks.append("\n".join(f"{token}\t{tag}" for token, tag in ner_sentence(writer)))
        (directory / f"{split}.tsv").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        counts[f"finetune/ner/{split}.tsv"] = n
    return counts
