"""Physician notes (admission, intensivist and progress notes) and specialist consults."""

from __future__ import annotations

from datetime import timedelta

from clinicalnotebert.demo.notes.shared import attestation, procedure_paragraphs
from clinicalnotebert.demo.notes.writer import Writer, clock, home_med_list
from clinicalnotebert.demo.templates import pick
from clinicalnotebert.demo.vocabulary import WORDS


def physician(w: Writer, day: int) -> str:
    """A metavision-era ICU physician note for ICU day ``day``."""
    adm, rng = w.adm, w.rng
    moment = adm.stays[0].intime + timedelta(days=day)
    charted = f"{w.deid.date(moment)} {clock(moment)}"
    lines = [f"Chief Complaint:  {pick(adm.dx.complaints, rng)}", "HPI:", w.hpi(3, 6)]
    lines += ["24 Hour Events:"] + [f" - {c}" for c in w.cues(day, 2)]
    lines += ["Allergies:", pick(WORDS.allergies, rng)]
    if adm.pressors or adm.intubated:
        drug = pick(WORDS.pressors if adm.pressors else WORDS.sedatives, rng)
        lines += ["Infusions:", f"{drug} - {rng.choice(WORDS.infusion_rates)} mcg/Kg/min"]
    lines += ["Other ICU medications:", f"Heparin Sodium (Prophylaxis) - {charted}"]
    lines += [f"Flowsheet Data as of  {charted}", "Vital signs", *flowsheet(w)]
    lines += ["Physical Examination", *w.say_each(WORDS.exam_lines)]
    lines += ["Labs / Radiology", *lab_block(w)]
    lines += [
        "Assessment and Plan",
        w.say("{who} with {pmh|problem} admitted with {dx|problem}."),
    ]
    lines += problem_paragraphs(w, day)
    lines += ["ICU Care", *w.say_each(WORDS.icu_prophylaxis)]
    for paragraph in procedure_paragraphs(w, copied_forward=day > 0):
        lines += ["Procedure Note:", paragraph]
    signed = attestation(w)
    if signed:
        lines += ["", signed]  # a paragraph of its own
    return "\n".join(lines)


def flowsheet(w: Writer) -> list[str]:
    s = w.slots
    return [
        f"Tmax: {(float(s['temp_f']) - 32) * 5 / 9:.1f} C ({s['temp_f']} F)",
        f"HR: {s['hr']} ({int(s['hr']) - 12} - {int(s['hr']) + 15}) bpm",
        f"BP: {s['sbp']}/{s['dbp']} mmHg",
        f"RR: {s['rr']} insp/min",
        f"SpO2: {s['spo2']}%",
    ]


def lab_block(w: Writer) -> list[str]:
    s, rng = w.slots, w.rng
    return [
        f"WBC {s['wbc']}   Hct {rng.uniform(24, 42):.1f}   Plt {rng.randrange(60, 420)}",
        f"Na {rng.randrange(128, 147)}  K {rng.uniform(3.2, 5.6):.1f}  Cr {s['creat']}  "
        f"Glu {rng.randrange(80, 320)}",
        f"Lactic Acid: {s['lactate']} mmol/L",
    ]


def problem_paragraphs(w: Writer, day: int) -> list[str]:
    paragraphs = [
        f"# {w.dx_label()}: " + " ".join(w.cues(day, 2) + w.says(WORDS.plan_sentences, 3))
    ]
    for problem in w.patient.pmh[: w.rng.randint(1, 3)]:
        paragraphs.append(f"# {problem}: " + " ".join(w.says(WORDS.plan_sentences, 1)))
    return paragraphs


def consult(w: Writer) -> str:
    """A specialist's consult: their own history, exam and recommendations."""
    service = pick(WORDS.plan_slots["consult_service"], w.rng)
    reason, *recommendations = WORDS.consult_sentences
    lines = [f"{service.title()} Consult Note", "Reason for consult:", w.say(reason)]
    lines += ["HPI:", w.hpi(4, 7), "Past Medical History:", home_med_list(w)]
    lines += ["Physical Exam:", *w.say_each(WORDS.exam_lines), *lab_block(w)]
    lines += ["Assessment and Recommendations:", *w.says(recommendations, 4)]
    lines += w.says(WORDS.plan_sentences, w.rng.randint(2, 4))
    return "\n".join(lines)
