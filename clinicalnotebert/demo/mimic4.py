"""MIMIC-IV-Note files (``mimic4_note/{discharge,radiology,patients}.csv``).

Their patients are separate from the MIMIC-III ones (own subject ids and random streams), and
their notes use MIMIC-IV's ``___`` placeholders and layout.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from clinicalnotebert.demo.notes.discharge import discharge
from clinicalnotebert.demo.notes.radiology import radiology
from clinicalnotebert.demo.notes.shared import SharedText
from clinicalnotebert.demo.notes.writer import Writer
from clinicalnotebert.demo.patients import Patient, draw_patient, midnight, patient_rng
from clinicalnotebert.demo.tables import (
    MIMIC4_NOTE_COLUMNS,
    MIMIC4_PATIENT_COLUMNS,
    Table,
    date_only,
    ts,
)
from clinicalnotebert.demo.templates import pick
from clinicalnotebert.demo.vocabulary import WORDS

FIRST_HADM_ID = 20_000_000
ANCHOR_GROUPS = (2008, 2011, 2014, 2017, 2020)  # first years of MIMIC-IV's 3-year groups


def write_mimic4_notes(directory: Path, n_notes: int, seed: int) -> dict[str, int]:
    """``n_notes`` discharge and ``n_notes`` radiology notes of separate MIMIC-IV-style patients."""
    discharge_notes = Table(directory / "discharge.csv", MIMIC4_NOTE_COLUMNS)
    radiology_notes = Table(directory / "radiology.csv", MIMIC4_NOTE_COLUMNS)
    patients = Table(directory / "patients.csv", MIMIC4_PATIENT_COLUMNS)
    index = 0
    while discharge_notes.rows < n_notes or radiology_notes.rows < n_notes:
        patient = draw_patient(index, seed, source="mimic4")
        rng = patient_rng("mimic4-notes", seed, index)
        shared = SharedText(seed, patient_rng("mimic4-shared", seed, index))
        index += 1
        if patient.kind == "newborn":
            continue
        write_mimic4_patient(patient, patients, rng)
        for number, adm in enumerate(patient.admissions):
            w = Writer(patient, adm, rng, style="iv", shared=shared)
            hadm_id = FIRST_HADM_ID + 4 * patient.index + number
            if discharge_notes.rows < n_notes:
                discharge_notes.add(mimic4_discharge_row(w, hadm_id, number + 1))
            for row in mimic4_radiology_rows(w, hadm_id, number):
                if radiology_notes.rows < n_notes:
                    radiology_notes.add(row)
    return {
        "mimic4_note/discharge.csv": discharge_notes.close(),
        "mimic4_note/radiology.csv": radiology_notes.close(),
        "mimic4_note/patients.csv": patients.close(),
    }


def mimic4_discharge_row(w: Writer, hadm_id: int, seq: int) -> tuple:
    subject_id, stamp = w.patient.subject_id, midnight(w.adm.dischtime)
    stored = ts(stamp + timedelta(hours=w.rng.uniform(10, 40)))
    return (
        f"{subject_id}-DS-{seq}",
        subject_id,
        hadm_id,
        "DS",
        seq,
        ts(stamp),
        stored,
        discharge(w),
    )


def mimic4_radiology_rows(w: Writer, hadm_id: int, number: int) -> list[tuple]:
    """The admission's first study, sometimes with a follow-up one."""
    rows = []
    subject_id = w.patient.subject_id
    for study_index in range(w.rng.randint(1, 2)):
        moment = w.adm.stays[0].intime + timedelta(hours=w.rng.uniform(-8, 30))
        study, later = w.adm.dx.study, ()
        if study_index > 0:
            study, *findings = WORDS.early_ct.get(w.adm.dx.key) or pick(
                WORDS.radiology_later_studies, w.rng
            )
            later = tuple(findings)
        seq = 10 * number + study_index + 1
        stored = ts(moment + timedelta(hours=w.rng.uniform(0.5, 6)))
        text = radiology(w, moment, study, later)
        rows.append((f"{subject_id}-RR-{seq}", subject_id, hadm_id, "RR", seq, ts(moment), stored, text))  # fmt: skip
    return rows


def write_mimic4_patient(patient: Patient, table: Table, rng: random.Random) -> None:
    """MIMIC-IV anchors: an age at a shifted anchor year, and the real 3-year group it maps to."""
    group_start = rng.choice(ANCHOR_GROUPS)
    age = min(91, patient.model_age) if patient.kind == "elderly" else patient.age
    dod = date_only(patient.dod) if patient.dod else None
    anchor_year = patient.admissions[0].admittime.year
    table.add((patient.subject_id, patient.gender, int(age), anchor_year, f"{group_start} - {group_start + 2}", dod))  # fmt: skip
