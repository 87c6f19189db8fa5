"""Nursing notes: carevue 'Nursing/other' free text, metavision 'Nursing' care plans, NICU notes."""

from __future__ import annotations

from datetime import datetime

from clinicalnotebert.demo.notes.shared import protocol_paragraph
from clinicalnotebert.demo.notes.writer import Note, Writer
from clinicalnotebert.demo.patients import Stay
from clinicalnotebert.demo.templates import pick
from clinicalnotebert.demo.vocabulary import WORDS

EXTRA_SENTENCES = (0, 0, 3, 6, 12)  # some nurses write a lot more than others


def nursing_note(w: Writer, stay: Stay, moment: datetime, day: int) -> Note:
    """The note of one nursing shift, in the style of the stay's database (or the NICU's)."""
    if w.patient.kind == "newborn":
        text = w.short_note(WORDS.neonatal_sentences, (5, 9), "NICU Nursing Progress Note:")
    else:
        text = nursing_other(w, day) if stay.dbsource == "carevue" else care_plan(w, day)
    if stay.dbsource == "carevue":
        return Note("Nursing/other", "Report", moment, text)
    return Note("Nursing", "Nursing Progress Note", moment, text)


def nursing_other(w: Writer, day: int) -> str:
    """Carevue-era free-text progress note with a systems review."""
    shift = pick(WORDS.nursing_shifts, w.rng)
    lines = [f"Nursing Progress Note {shift}:"]
    flagged = flag_lines(w)
    for system, pool in WORDS.nursing_systems.items():
        said = w.says(pool, w.rng.randint(1, 2))
        if system in flagged:
            said = [w.say(flagged[system]), *said[1:]]
        lines.append(f"{system}: {' '.join(said)}")
    extra = w.says(WORDS.nursing_extra, w.rng.choice(EXTRA_SENTENCES))
    plan = [*w.cues(day, 2), *extra, w.say_one(WORDS.plan_sentences)]
    protocol = protocol_paragraph(w)
    if protocol:
        lines.append(f"Protocol: {protocol}")
    lines.append("A/P: " + " ".join(plan))
    return "\n".join(lines)


def flag_lines(w: Writer) -> dict[str, str]:
    """Systems-review lines that the stay's flags (intubated, pressors) impose."""
    lines: dict[str, str] = {}
    for flag, by_system in WORDS.nursing_flag_lines.items():
        if getattr(w.adm, flag):
            lines.update(by_system)
    return lines


def care_plan(w: Writer, day: int) -> str:
    """Metavision-era care-plan note: problem, Assessment, Action, Response, Plan."""
    blocks = []
    flagged = flag_lines(w)
    cv_line = w.say(flagged["CV"]) if "CV" in flagged else w.says(WORDS.nursing_systems["CV"], 1)[0]
    for problem in [w.dx_label()] + list(w.patient.pmh[: w.rng.randint(0, 2)]):
        blocks += [
            f"{problem[0].upper()}{problem[1:]}",
            "Assessment:",
            " ".join([*w.cues(day, 2), cv_line]),
            "Action:",
            " ".join(w.says(WORDS.plan_sentences, 2)),
            "Response:",
            pick(WORDS.careplan_responses[w.tier(day)], w.rng),
            "Plan:",
            w.say_one(WORDS.plan_sentences),
        ]
    protocol = protocol_paragraph(w)
    if protocol:
        blocks += ["Protocol:", protocol]
    return "\n".join(blocks)
