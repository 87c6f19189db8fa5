"""Text that recurs across patients: a hospital's standard paragraphs (``vocab/shared.yaml``).

Real notes quote much that is not the patient's own: procedure-note templates, unit protocols,
discharge instruction sheets, a reading room's dictation macros. Each comes in a handful of
versions, so the same paragraph, doses, sizes and phone numbers included, turns up in many
patients' notes, word for word or with one detail changed. This is what retrieval can find for
a patient it has never seen, and what a small LM cannot know by heart.

The pool is drawn once per seed from its own stream (never a patient's): ``ENTRIES[kind]``
filled paragraphs per topic. A patient's notes choose entries with the patient's own ``shared``
stream, so the rest of a note's text is the same with or without them. Procedure, protocol,
instruction and follow-up paragraphs are quoted once per admission and repeated in each of its
notes that quote the topic (notes are copied forward, ``paragraph``); chest-film macros, CT dose
paragraphs and attestations draw a version each time (``quote``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from clinicalnotebert.demo.templates import pick
from clinicalnotebert.demo.vocabulary import WORDS

ENTRIES = {  # versions per topic
    "procedure": 8,
    "protocol": 10,
    "instructions": 8,
    "chest_followup": 16,
    "attestation": 12,
    "followup": 12,
    "ct_dose": 10,
}
EDIT_RATE = 0.5  # an admission's quote with one detail of the entry changed


# A fill: {slot} (its options are shared_slots[slot]) or [one|two|three] (inline options).
FILL = re.compile(r"\{(\w+)\}|\[([^\[\]]*)\]")


@dataclass(frozen=True)
class Paragraph:
    """A template filled: its literal pieces around the fills, each fill's options and choice."""

    pieces: tuple[str, ...]  # len(fills) + 1 literals
    options: tuple[tuple[str, ...], ...]
    fills: tuple[str, ...]

    def text(self) -> str:
        parts = [self.pieces[0]]
        for fill, literal in zip(self.fills, self.pieces[1:], strict=True):
            parts += [fill, literal]
        text = "".join(parts)
        return text[0].upper() + text[1:]

    def edited(self, rng: random.Random) -> Paragraph:
        """The same paragraph with one fill drawn again (it may come out the same)."""
        if not self.fills:
            return self
        at = rng.randrange(len(self.fills))
        fills = list(self.fills)
        fills[at] = pick(self.options[at], rng)
        return Paragraph(self.pieces, self.options, tuple(fills))


def fill(template: str, rng: random.Random) -> Paragraph:
    pieces, options, last = [], [], 0
    for match in FILL.finditer(template):
        pieces.append(template[last : match.start()])
        slot, inline = match.groups()
        options.append(WORDS.shared_slots[slot] if slot else tuple(inline.split("|")))
        last = match.end()
    pieces.append(template[last:])
    fills = tuple(pick(choices, rng) for choices in options)
    return Paragraph(tuple(pieces), tuple(options), fills)


@lru_cache(maxsize=4)
def shared_pool(seed: int) -> Mapping[str, Mapping[str, tuple[Paragraph, ...]]]:
    """kind -> topic -> the filled paragraphs every patient of this seed may quote."""
    rng = random.Random(f"shared-pool:{seed}")
    pool: dict[str, dict[str, tuple[Paragraph, ...]]] = {}
    for kind, topics in WORDS.shared_paragraphs.items():
        pool[kind] = {
            topic: tuple(fill(templates[i % len(templates)], rng) for i in range(ENTRIES[kind]))
            for topic, templates in topics.items()
        }
    return pool


class SharedText:
    """One patient's quotes of the pool, drawn from the patient's own ``shared`` stream."""

    def __init__(self, seed: int, rng: random.Random):
        self.pool = shared_pool(seed)
        self.rng = rng
        self.quoted: dict[tuple[int, str, str], str] = {}
        self.decided: dict[tuple[int, str], list[str]] = {}

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def choice(self, options):
        return options[self.rng.randrange(len(options))]

    def quote(self, kind: str, topic: str) -> str:
        """A version of the (kind, topic) paragraph, sometimes with one detail changed."""
        entry = self.choice(self.pool[kind][topic])
        return (entry.edited(self.rng) if self.chance(EDIT_RATE) else entry).text()

    def paragraph(self, hadm_id: int, kind: str, topic: str) -> str:
        """The admission's quote of a (kind, topic) paragraph: the same text every time."""
        key = (hadm_id, kind, topic)
        if key not in self.quoted:
            self.quoted[key] = self.quote(kind, topic)
        return self.quoted[key]


# --- which paragraphs a note quotes ---------------------------------------------------------

PROCEDURE_RATES = {  # topic -> (flag or diagnoses, chance that the admission had it)
    "central_line": ("pressors", 0.85),
    "arterial_line": ("intubated", 0.6),
    "intubation": ("intubated", 0.8),
    "paracentesis": (("gi_bleed", "aki"), 0.35),
    "thoracentesis": (("pneumonia", "chf"), 0.3),
    "lumbar_puncture": (("sepsis", "stroke", "sdh", "overdose"), 0.2),
}
ACCESS_LINE_RATE = 0.4  # a central line without pressors (access, monitoring)
PROCEDURE_FORWARD_RATE = 0.5  # progress notes that copy the procedures forward
PROTOCOL_RATE = 0.8  # nursing notes that copy in a unit protocol
PROTOCOL_DIAGNOSES = {
    "heparin": ("mi", "cabg", "stroke", "chf"),
    "insulin": ("dka",),
    "alcohol": ("overdose",),
}
SKIN_SEVERITY = 0.3  # above it the nurses copy in the pressure-injury protocol too
INSTRUCTION_TOPICS = {
    "mi": "heart", "chf": "heart", "cabg": "heart", "pneumonia": "lungs", "copd": "lungs",
    "gi_bleed": "gut", "dka": "sugar", "stroke": "brain", "sdh": "brain", "sepsis": "kidneys",
    "aki": "kidneys", "overdose": "kidneys",
}  # fmt: skip
INSTRUCTION_RATE = 1.0  # survivors' summaries with the clinic's instruction sheet
CHEST_MACRO_RATE = 0.8  # chest films dictated from the follow-up macro
ATTESTATION_RATE = 0.8  # physician notes with the attending's attestation
FOLLOWUP_RATE = 0.9  # survivors' summaries with a clinic appointment block


def applies(adm, condition) -> bool:
    return adm.dx.key in condition if isinstance(condition, tuple) else getattr(adm, condition)


def procedure_topics(shared: SharedText, adm) -> list[str]:
    """The bedside procedures an admission had (decided once, when first asked)."""
    key = (adm.hadm_id, "procedures")
    if key not in shared.decided:
        topics = [
            topic
            for topic, (condition, rate) in PROCEDURE_RATES.items()
            if applies(adm, condition) and shared.chance(rate)
        ]
        if "central_line" not in topics and shared.chance(ACCESS_LINE_RATE):
            topics.insert(0, "central_line")
        shared.decided[key] = topics
    return shared.decided[key]


def protocol_topics(adm) -> list[str]:
    """The unit protocols a nurse may copy into this admission's notes."""
    topics = ["electrolytes"]
    topics += [topic for topic, keys in PROTOCOL_DIAGNOSES.items() if adm.dx.key in keys]
    if adm.intubated:
        topics.append("sedation")
    if adm.severity > SKIN_SEVERITY:
        topics.append("skin")
    return topics


# --- the quotes a note makes (none for a writer without shared text, or a newborn) ----------


def quoting(w) -> SharedText | None:
    return None if w.shared is None or w.patient.kind == "newborn" else w.shared


def procedure_paragraphs(w, copied_forward: bool = False) -> list[str]:
    """The admission's procedure notes: in its first physician notes, and copied forward into
    about half of the later ones."""
    shared = quoting(w)
    if shared is None or (copied_forward and not shared.chance(PROCEDURE_FORWARD_RATE)):
        return []
    hadm_id = w.adm.hadm_id
    return [
        shared.paragraph(hadm_id, "procedure", topic) for topic in procedure_topics(shared, w.adm)
    ]


def protocol_paragraph(w) -> str | None:
    """A unit protocol that a nursing note copies in, or None."""
    shared = quoting(w)
    if shared is None or not shared.chance(PROTOCOL_RATE):
        return None
    return shared.paragraph(w.adm.hadm_id, "protocol", shared.choice(protocol_topics(w.adm)))


def instruction_sheet(w) -> str | None:
    """The instruction sheet of the diagnosis' clinic in a survivor's summary, or None."""
    shared = quoting(w)
    topic = INSTRUCTION_TOPICS.get(w.adm.dx.key)
    if shared is None or topic is None or not shared.chance(INSTRUCTION_RATE):
        return None
    return shared.paragraph(w.adm.hadm_id, "instructions", topic)


def chest_macro(w, study: str) -> str | None:
    """A chest film's comparison paragraph from the follow-up macro, or None."""
    shared = quoting(w)
    if shared is None or "CHEST" not in study or not shared.chance(CHEST_MACRO_RATE):
        return None
    # Serial films of one admission are dictated afresh: each film draws its own version.
    return shared.quote("chest_followup", "tubes" if w.adm.intubated else "plain")


def ct_dose(w, study: str) -> str | None:
    """A CT report's dose and technique paragraph (every CT), or None."""
    shared = quoting(w)
    if shared is None or not study.startswith("CT"):
        return None
    return shared.quote("ct_dose", "ct")


def attestation(w) -> str | None:
    """The attending's attestation closing a physician note, or None."""
    shared = quoting(w)
    if shared is None or not shared.chance(ATTESTATION_RATE):
        return None
    return shared.quote("attestation", "icu")


def followup_block(w) -> str | None:
    """A clinic appointment block in a survivor's summary, or None."""
    shared = quoting(w)
    if shared is None or not shared.chance(FOLLOWUP_RATE):
        return None
    return shared.paragraph(w.adm.hadm_id, "followup", "clinic")
