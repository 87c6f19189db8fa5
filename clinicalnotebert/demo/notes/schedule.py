"""Which notes an admission gets, and when: a dense first ICU day, a few later notes, a summary.

The first day's notes (INTIME - 12 h to INTIME + 24 h) carry the learnable cues; nobody writes
after death or discharge, and the discharge summary is dated, not timed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import partial

from clinicalnotebert.demo.notes.allied import allied_notes, respiratory
from clinicalnotebert.demo.notes.discharge import addendum, discharge
from clinicalnotebert.demo.notes.nursing import nursing_note
from clinicalnotebert.demo.notes.physician import physician
from clinicalnotebert.demo.notes.radiology import CHEST_FILM, radiology
from clinicalnotebert.demo.notes.reports import ecg, echo
from clinicalnotebert.demo.notes.shared import SharedText
from clinicalnotebert.demo.notes.writer import Note, Writer
from clinicalnotebert.demo.patients import Admission, Patient, Stay, midnight
from clinicalnotebert.demo.templates import pick
from clinicalnotebert.demo.vocabulary import WORDS

ADDENDUM_RATE = 0.08
EARLY_CT_RATE = 0.4  # of the diagnoses that have a first-day CT
EXTRA_CHEST_FILM_RATE = 0.3  # first-day chest films of patients who are not intubated
ECG_RATE = 0.75
INTENSIVIST_RATE = 0.5
RESPIRATORY_RATE = 0.7  # of intubated, COPD and pneumonia stays
PROGRESS_NOTE_RATE = 0.6  # later ICU days with a physician progress note
LATER_STUDY_RATE = 0.6
ECHO_RATE = 0.3


def admission_notes(
    patient: Patient,
    adm: Admission,
    rng: random.Random,
    first_admission: bool,
    shared: SharedText | None = None,
) -> list[Note]:
    """Notes of one admission: a dense first ICU day, a few later notes, a discharge summary;
    ``shared``: the paragraphs the patient's notes quote from the cross-patient pool."""
    w = Writer(patient, adm, rng, shared=shared)
    stay = adm.stays[0]
    if first_admission:
        notes = early_notes(w, stay)
    else:  # a readmission is documented more thinly
        moment = stay.intime + timedelta(hours=rng.uniform(-6, 6))
        notes = [radiology_note(w, moment, adm.dx.study)]
    notes += later_notes(w, stay)
    for extra in adm.stays[1:]:
        notes.append(nursing_note(w, extra, extra.intime + timedelta(hours=rng.uniform(2, 10)), 2))
    notes = [n for n in notes if n.moment <= adm.dischtime]  # nobody writes after death
    end = midnight(adm.dischtime)
    notes.append(Note("Discharge summary", "Report", end, discharge(w), has_time=False))
    if rng.random() < ADDENDUM_RATE:
        notes.append(Note("Discharge summary", "Addendum", end, addendum(w), has_time=False))
    return notes


def radiology_note(w: Writer, moment: datetime, study: str, later: tuple[str, ...] = ()) -> Note:
    return Note("Radiology", study, moment, radiology(w, moment, study, later))


def early_notes(w: Writer, stay: Stay) -> list[Note]:
    """Notes charted between INTIME - 12 h and INTIME + 24 h: they carry the learnable cues."""
    adm, rng, adult = w.adm, w.rng, w.patient.kind != "newborn"

    def at(lo: float, hi: float) -> datetime:
        return stay.intime + timedelta(hours=rng.uniform(lo, hi))

    notes = [radiology_note(w, at(-10, 6), adm.dx.study)]  # often taken in the ED, before the ICU
    if adm.intubated or rng.random() < EXTRA_CHEST_FILM_RATE:
        notes.append(radiology_note(w, at(2, 20), CHEST_FILM))
    if adm.dx.key in WORDS.early_ct and rng.random() < EARLY_CT_RATE:
        study, *findings = WORDS.early_ct[adm.dx.key]
        notes.append(radiology_note(w, at(-6, 12), study, tuple(findings)))
    if rng.random() < ECG_RATE and adult:
        notes.append(Note("ECG", "Report", midnight(adm.admittime), ecg(w), has_time=False))
    for _ in range(rng.randint(1, 2) if stay.dbsource == "metavision" else rng.randint(2, 3)):
        notes.append(nursing_note(w, stay, at(3, 23.5), 0))
    if stay.dbsource == "metavision" and adult:  # physician notes start with metavision
        notes.append(
            Note("Physician ", "Physician Resident Admission Note", at(1, 9), physician(w, 0))
        )
        if rng.random() < INTENSIVIST_RATE:
            notes.append(Note("Physician ", "Intensivist Note", at(9, 23.5), physician(w, 0)))
        breathing_care = adm.intubated or adm.dx.key in ("copd", "pneumonia")
        if breathing_care and rng.random() < RESPIRATORY_RATE:
            note = Note("Respiratory ", "Respiratory Care Shift Note", at(2, 23.5), respiratory(w))
            notes.append(note)
    notes += allied_notes(w, partial(at, 2, 23.5), scale=0.5)
    return notes


def later_notes(w: Writer, stay: Stay) -> list[Note]:
    """Progress notes on the next ICU days (up to three) and the ward-side disciplines."""
    adm, rng, adult = w.adm, w.rng, w.patient.kind != "newborn"
    notes = []
    for day in range(1, min(3, int(stay.los_days)) + 1):
        moment = stay.intime + timedelta(days=day, hours=rng.uniform(1, 20))
        notes.append(nursing_note(w, stay, moment, day))
        if stay.dbsource == "metavision" and rng.random() < PROGRESS_NOTE_RATE and adult:
            progress = moment + timedelta(hours=1)
            notes.append(
                Note("Physician ", "Physician Resident Progress Note", progress, physician(w, day))
            )
    span_hours = max(25.0, (adm.dischtime - stay.intime).total_seconds() / 3600 - 1)

    def at() -> datetime:
        return stay.intime + timedelta(hours=rng.uniform(25, span_hours))

    if rng.random() < LATER_STUDY_RATE:
        study, *findings = pick(WORDS.radiology_later_studies, rng)
        notes.append(radiology_note(w, at(), study, tuple(findings)))
    if rng.random() < ECHO_RATE and adult:
        notes.append(Note("Echo", "Report", midnight(at()), echo(w), has_time=False))
    notes += allied_notes(w, at, scale=1.0)
    return notes
