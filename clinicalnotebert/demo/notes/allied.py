"""Allied-health notes (respiratory care, nutrition, rehab, social work, case management,
pharmacy, general) and when an admission gets them, consults included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clinicalnotebert.demo.notes.physician import consult
from clinicalnotebert.demo.notes.writer import Note, Writer
from clinicalnotebert.demo.vocabulary import ALLIED_NOTES, WORDS

CONSULT_RATE = 0.25


def respiratory(w: Writer) -> str:
    body = w.says(WORDS.resp_sentences, w.rng.randint(3, 6))
    if not w.adm.intubated:
        body = [w.say("Pt on {o2_mid}, no distress noted."), *body[1:]]
    return "Respiratory Care Note:\n" + " ".join(body)


def allied_notes(w: Writer, when: Callable[[], datetime], scale: float) -> list[Note]:
    """Allied-health and consult notes, each with its own chance (``scale`` lowers them)."""
    if w.patient.kind == "newborn":
        return []
    notes = []
    for kind in ALLIED_NOTES:
        rate = kind.rate_if_dies if w.adm.died else kind.rate_if_survives
        if w.chance(rate * scale):
            text = w.short_note(kind.sentences, kind.sentence_range, kind.heading)
            notes.append(Note(kind.category, kind.description, when(), text))
    if w.chance(CONSULT_RATE * scale):
        notes.append(Note("Consult", "Consult Note", when(), consult(w)))
    return notes
