"""The MIMIC-III tables (``mimic3/*.csv``) and, from the items charted, the MIMIC-Extract files.

Patient *i* writes its PATIENTS, ADMISSIONS, ICUSTAYS and DRGCODES rows, its notes, and the
chart and lab events of each ICU stay, each from its own random stream.
"""

from __future__ import annotations

import random
from collections import Counter
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from clinicalnotebert.demo.hourly import stay_signals, write_dictionaries
from clinicalnotebert.demo.notes.nursing import nursing_other
from clinicalnotebert.demo.notes.schedule import admission_notes
from clinicalnotebert.demo.notes.shared import SharedText
from clinicalnotebert.demo.notes.writer import Note, Writer
from clinicalnotebert.demo.patients import Admission, Patient, draw_patient, patient_rng
from clinicalnotebert.demo.tables import MIMIC3_COLUMNS, Table, date_only, ts

EVENT_TABLES = ("PATIENTS", "ADMISSIONS", "ICUSTAYS", "DRGCODES", "NOTEEVENTS", "CHARTEVENTS", "LABEVENTS")  # fmt: skip
UNTIMED_RATE = 0.01  # timed notes that lost their CHARTTIME anyway, as some in MIMIC-III did
NOTE_ERROR_RATE = 0.003  # notes flagged ISERROR
NO_STORETIME = ("Radiology", "ECG", "Echo", "Discharge summary")  # nor a CGID


def write_mimic3(root: Path, n_patients: int, seed: int) -> dict[str, int]:
    """All MIMIC-III tables plus the MIMIC-Extract resources; returns row counts."""
    directory = root / "mimic3"
    item_counts: Counter = Counter()
    with ExitStack() as open_tables:
        tables = {
            n: open_tables.enter_context(Table(directory / f"{n}.csv", MIMIC3_COLUMNS[n]))
            for n in EVENT_TABLES
        }
        for index in range(n_patients):
            write_patient(index, seed, tables, item_counts)
    counts = {f"mimic3/{name}.csv": table.rows for name, table in tables.items()}
    counts.update(write_dictionaries(directory, root / "mimic_extract", item_counts))
    return counts


def write_patient(index: int, seed: int, tables: dict[str, Table], item_counts: Counter) -> None:
    """Every row of patient ``index``; counts the chart and lab items it uses."""
    patient = draw_patient(index, seed)
    write_patient_rows(patient, tables)
    rng = patient_rng("notes", seed, index)
    shared = SharedText(seed, patient_rng("shared", seed, index))
    for number, adm in enumerate(patient.admissions):
        notes = admission_notes(patient, adm, rng, first_admission=number == 0, shared=shared)
        tables["NOTEEVENTS"].add_many(note_rows(patient, adm, notes, rng))
        for stay in adm.stays:
            chart, labs = stay_signals(patient, adm, stay, seed)
            tables["CHARTEVENTS"].add_many(chart)
            tables["LABEVENTS"].add_many(labs)
            item_counts.update(row[3] for row in chart)
            item_counts.update(row[2] for row in labs)
    add_artifacts(index, patient, tables["NOTEEVENTS"], rng)


def write_patient_rows(patient: Patient, tables: dict[str, Table]) -> None:
    tables["PATIENTS"].add(
        (
            patient.subject_id, patient.gender, ts(patient.dob), ts(patient.dod), ts(patient.dod_hosp),
            ts(patient.dod_ssn), int(patient.dod is not None),
        )
    )  # fmt: skip
    for adm in patient.admissions:
        social = patient.social
        tables["ADMISSIONS"].add(
            (
                patient.subject_id, adm.hadm_id, ts(adm.admittime), ts(adm.dischtime), ts(adm.deathtime),
                adm.admission_type, adm.admission_location, adm.discharge_location, social["INSURANCE"],
                social["LANGUAGE"], social["RELIGION"], social["MARITAL_STATUS"], social["ETHNICITY"],
                ts(adm.edregtime), ts(adm.edouttime), adm.dx.admit_dx[adm.hadm_id % len(adm.dx.admit_dx)],
                int(adm.died), 1,
            )
        )  # fmt: skip
        for stay in adm.stays:
            tables["ICUSTAYS"].add(
                (
                    patient.subject_id, adm.hadm_id, stay.icustay_id, stay.dbsource, stay.unit, stay.unit,
                    stay.ward, stay.ward, ts(stay.intime), ts(stay.outtime), round(stay.los_days, 4),
                )
            )  # fmt: skip
        write_drg_rows(patient, adm, tables["DRGCODES"])


def write_drg_rows(patient: Patient, adm: Admission, table: Table) -> None:
    """An MS-DRG (the label) for ~97% of admissions, plus an APR-DRG row with severity for some."""
    code, description = adm.drg
    ids = (patient.subject_id, adm.hadm_id)
    if (adm.hadm_id * 7919) % 100 >= 3:
        table.add((*ids, "MS", code, description, None, None))
    if (adm.hadm_id * 104729) % 100 < 60:
        level = 1 + min(3, max(0, int(adm.severity + 1.5)))
        table.add((*ids, "APR", code, description.title(), level, min(4, level + int(adm.died))))


def note_rows(
    patient: Patient, adm: Admission, notes: list[Note], rng: random.Random
) -> list[tuple]:
    """NOTEEVENTS rows; Radiology/ECG/Echo/Discharge have no CGID or STORETIME, as in MIMIC-III."""
    rows = []
    for note in sorted(notes, key=lambda n: n.moment):
        untimed = not note.has_time or (
            note.category != "Radiology" and rng.random() < UNTIMED_RATE
        )
        no_store = note.category in NO_STORETIME
        storetime = (
            None
            if no_store or untimed
            else ts(note.moment + timedelta(minutes=rng.randrange(2, 90)))
        )
        cgid = None if no_store else rng.randrange(14000, 21600)
        iserror = 1 if rng.random() < NOTE_ERROR_RATE else None
        rows.append(
            (
                patient.subject_id, adm.hadm_id, date_only(note.moment), None if untimed else ts(note.moment),
                storetime, note.category, note.description, cgid, iserror, note.text,
            )
        )  # fmt: skip
    return rows


def add_artifacts(index: int, patient: Patient, table: Table, rng: random.Random) -> None:
    """Deterministic oddities that real NOTEEVENTS has: empty texts, exact duplicates, errors."""
    adm = patient.admissions[0]
    intime = adm.stays[0].intime
    ids = (patient.subject_id, adm.hadm_id, date_only(intime))
    if index % 200 == 7:
        blank = " " if index % 400 == 7 else ""
        table.add((*ids, ts(intime), None, "Nursing/other", "Report", 15001, None, blank))
    if index % 60 == 11:
        text = nursing_other(Writer(patient, adm, rng), 0)
        duplicate = (*ids, ts(intime + timedelta(hours=5)), None, "Nursing/other", "Report", 15002, None, text)  # fmt: skip
        table.add_many([duplicate, duplicate])
    if index % 100 == 5:
        wrong = "Note entered on the wrong patient in error."
        table.add(
            (*ids, None, None, "Physician ", "Physician Resident Progress Note", 15003, 1, wrong)
        )
