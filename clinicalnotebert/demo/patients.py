"""Latent patients, admissions and ICU stays, and the outcome model that links them.

Each admission draws latents (severity, organ reserve, primary diagnosis, age); in-hospital death,
ICU length of stay, intubation, vasopressors, code status and the DRG follow from them. Every draw
comes from a stream seeded by (source, seed, patient index), so patient *i* is the same whatever
the number of patients.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clinicalnotebert.demo.templates import pick, sample
from clinicalnotebert.demo.vocabulary import DIAGNOSES, NEWBORN, WORDS, Diagnosis

# Latent outcome model. Tuned so that in-hospital mortality is ~20%, ICU LOS > 3 days ~40%, and
# a few percent of stays are shorter than 12 h or longer than 10 days.
DEATH_INTERCEPT = -2.55
DEATH_PER_SEVERITY = 2.4
DEATH_PER_RESERVE = 0.9
DEATH_PER_AGE = 0.45  # per AGE_SCALE years above AGE_MEAN
AGE_MEAN, AGE_SCALE = 64.0, 16.0
LOS_MEDIAN_DAYS = 2.55
LOS_PER_SEVERITY = 0.42
LOS_PER_RESERVE = 0.2
LOS_NOISE = 0.6
INTUBATION_SLOPE, INTUBATION_THRESHOLD = 2.2, 0.5  # logit = slope * (severity - threshold)
PRESSOR_SLOPE, PRESSOR_THRESHOLD = 2.2, 0.8
DNR_INTERCEPT, DNR_PER_SEVERITY, DNR_PER_AGE, DNR_IF_DIES = -3.4, 1.0, 1.2, 1.6
DRG_MAJOR_SEVERITY = 0.6  # above it (or intubated) the DRG is the "with major complication" one
NEWBORN_SHARE, ELDERLY_SHARE = 0.02, 0.025  # under-age patients; over-89s with a shifted DOB
MALE_SHARE = 0.55
READMISSION_RATE = 0.07  # survivors with a second admission
BOUNCE_BACK_RATE = 0.06  # survivors with a second ICU stay in the same admission
DIES_IN_UNIT_RATE = 0.8  # the rest die on the ward after the ICU stay
LATER_DEATH_RATE = 0.12  # survivors with a date of death after discharge
DOD_SSN_RATE = 0.7  # in-hospital deaths that the social security record also has
URGENT_TRANSFER_RATE = 0.2  # non-elective admissions transferred from another hospital
CAREVUE_SHARE = 0.45  # stays charted in carevue (the rest in metavision)
WARDS = (7, 12, 14, 15, 23, 33, 50, 52, 57)

MIMIC3_FIRST_SUBJECT = 100
MIMIC4_FIRST_SUBJECT = 10_000_000


@dataclass
class Stay:
    icustay_id: int
    intime: datetime
    outtime: datetime
    unit: str
    ward: int
    dbsource: str

    @property
    def los_days(self) -> float:
        return (self.outtime - self.intime).total_seconds() / 86400.0


@dataclass
class Admission:
    hadm_id: int
    dx: Diagnosis
    severity: float  # latent severity incl. the diagnosis shift
    reserve: float  # latent organ dysfunction, seen mostly in labs
    admittime: datetime
    dischtime: datetime
    deathtime: datetime | None
    admission_type: str
    admission_location: str
    discharge_location: str
    edregtime: datetime | None
    edouttime: datetime | None
    intubated: bool
    pressors: bool
    dnr: bool
    stays: list[Stay] = field(default_factory=list)

    @property
    def died(self) -> bool:
        return self.deathtime is not None

    @property
    def drg(self) -> tuple[int, str]:
        major = self.severity > DRG_MAJOR_SEVERITY or self.intubated
        return self.dx.drg_major if major else self.dx.drg_minor


@dataclass
class Patient:
    index: int
    subject_id: int
    gender: str
    kind: str  # adult, elderly (>89, DOB shifted), newborn
    age: int  # age in years at the first admission as MIMIC computes it (300 for the shifted)
    dob: datetime
    pmh: tuple[str, ...]
    home_meds: tuple[tuple[str, str], ...]
    social: dict[str, str]
    admissions: list[Admission] = field(default_factory=list)
    dod: datetime | None = None
    dod_hosp: datetime | None = None
    dod_ssn: datetime | None = None

    @property
    def male(self) -> bool:
        return self.gender == "M"

    @property
    def model_age(self) -> float:
        """Age used by the outcome model (a shifted DOB means 'over 89')."""
        return 92.0 if self.kind == "elderly" else float(self.age)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def midnight(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, moment.day)


def patient_rng(source: str, seed: int, index: int) -> random.Random:
    # A string seed is hashed with SHA-512, so streams are stable across runs and platforms.
    return random.Random(f"{source}:{seed}:{index}")


def draw_patient(index: int, seed: int, source: str = "mimic3") -> Patient:
    rng = patient_rng(source, seed, index)
    first_subject = MIMIC3_FIRST_SUBJECT if source == "mimic3" else MIMIC4_FIRST_SUBJECT
    subject_id = first_subject + 7 * index + rng.randrange(7)
    kind = patient_kind(rng.random())
    gender = "M" if rng.random() < MALE_SHARE else "F"
    admittime = datetime(rng.randrange(2100, 2195), 1, 1) + timedelta(
        days=rng.randrange(365), minutes=rng.randrange(24 * 60)
    )
    age, dob = draw_birth(kind, admittime, rng)
    patient = Patient(
        index=index,
        subject_id=subject_id,
        gender=gender,
        kind=kind,
        age=age,
        dob=datetime(dob.year, dob.month, dob.day),
        pmh=tuple(sample(possible_history(gender), rng.randint(2, 5), rng))
        if kind != "newborn"
        else (),
        home_meds=tuple(sample(WORDS.home_meds, rng.randint(3, 8), rng))
        if kind != "newborn"
        else (),
        social=draw_social(rng),
    )
    add_admissions(patient, rng, admittime)
    return patient


def patient_kind(u: float) -> str:
    if u < NEWBORN_SHARE:
        return "newborn"
    return "elderly" if u < NEWBORN_SHARE + ELDERLY_SHARE else "adult"


def draw_birth(kind: str, admittime: datetime, rng: random.Random) -> tuple[int, datetime]:
    """Age at the first admission and date of birth."""
    if kind == "newborn":
        return 0, admittime.replace(hour=0, minute=0)
    if kind == "elderly":
        # MIMIC shifts the DOB of patients over 89 so that they appear ~300 years old.
        return 300, datetime(admittime.year - 300, 1, 1) + timedelta(days=rng.randrange(365))
    age = int(min(89, max(18, rng.gauss(AGE_MEAN, AGE_SCALE))))
    return age, admittime - timedelta(days=int(age * 365.25) + rng.randrange(1, 360))


def possible_history(gender: str) -> tuple[str, ...]:
    other_sex = WORDS.female_only_pmh if gender == "M" else WORDS.male_only_pmh
    return tuple(item for item in WORDS.pmh if item not in other_sex)


def draw_social(rng: random.Random) -> dict[str, str]:
    return {column: pick(options, rng) for column, options in WORDS.social.items()}


def choose_diagnosis(rng: random.Random) -> Diagnosis:
    return rng.choices(DIAGNOSES, weights=[d.weight for d in DIAGNOSES])[0]


def add_admissions(patient: Patient, rng: random.Random, admittime: datetime) -> None:
    """The index admission, sometimes a second ICU stay in it, sometimes a later readmission."""
    severity, reserve = rng.gauss(0, 1), rng.gauss(0, 1)
    dx = NEWBORN if patient.kind == "newborn" else choose_diagnosis(rng)
    first = draw_admission(patient, rng, 0, admittime, dx, severity, reserve)
    patient.admissions.append(first)
    if not first.died and patient.kind != "newborn" and rng.random() < READMISSION_RATE:
        later = first.dischtime + timedelta(days=rng.uniform(20, 600))
        dx = choose_diagnosis(rng)
        severity = 0.5 * severity + rng.gauss(0, 0.8)
        patient.admissions.append(draw_admission(patient, rng, 1, later, dx, severity, reserve))
    last = patient.admissions[-1]
    if last.died:
        patient.dod = patient.dod_hosp = midnight(last.deathtime)
        patient.dod_ssn = patient.dod if rng.random() < DOD_SSN_RATE else None
    elif rng.random() < LATER_DEATH_RATE:
        patient.dod = patient.dod_ssn = midnight(
            last.dischtime + timedelta(days=rng.uniform(5, 900))
        )


def draw_admission(
    patient: Patient,
    rng: random.Random,
    number: int,
    admittime: datetime,
    dx: Diagnosis,
    severity: float,
    reserve: float,
) -> Admission:
    severity += dx.severity_shift
    age_z = (patient.model_age - AGE_MEAN) / AGE_SCALE if patient.kind != "newborn" else -1.0
    dies = rng.random() < sigmoid(death_logit(severity, reserve, age_z))
    los = LOS_MEDIAN_DAYS * math.exp(
        LOS_PER_SEVERITY * severity
        + LOS_PER_RESERVE * reserve
        + dx.los_shift
        + rng.gauss(0, LOS_NOISE)
    )
    admission_type, location, ed = admission_route(dx, rng)
    if admission_type == "ELECTIVE":
        admittime = admittime.replace(hour=6, minute=rng.randrange(60))
    intime = admittime + timedelta(
        hours=rng.uniform(5, 9) if admission_type == "ELECTIVE" else rng.uniform(0.3, 7)
    )
    stay = Stay(
        icustay_id=200_000 + 4 * patient.index + 2 * number,
        intime=intime,
        outtime=intime + timedelta(days=los),
        unit=dx.unit,
        ward=rng.choice(WARDS),
        dbsource="carevue" if rng.random() < CAREVUE_SHARE else "metavision",
    )
    stays, deathtime, dischtime = stay_course(stay, dx, dies, rng)
    intubated = rng.random() < sigmoid(
        INTUBATION_SLOPE * (severity - INTUBATION_THRESHOLD) + dx.vent_shift
    )
    return Admission(
        hadm_id=100_000 + 4 * patient.index + number,
        dx=dx,
        severity=severity,
        reserve=reserve,
        admittime=admittime,
        dischtime=dischtime,
        deathtime=deathtime,
        admission_type=admission_type,
        admission_location=location,
        discharge_location="DEAD/EXPIRED" if dies else discharge_location(patient, severity, rng),
        edregtime=admittime - timedelta(hours=rng.uniform(1.5, 8)) if ed else None,
        edouttime=admittime + timedelta(minutes=rng.randrange(5, 40)) if ed else None,
        intubated=intubated,
        pressors=rng.random()
        < sigmoid(PRESSOR_SLOPE * (severity - PRESSOR_THRESHOLD) + dx.pressor_shift),
        dnr=rng.random() < sigmoid(dnr_logit(severity, age_z, dies)),
        stays=stays,
    )


def death_logit(severity: float, reserve: float, age_z: float) -> float:
    return (
        DEATH_INTERCEPT
        + DEATH_PER_SEVERITY * severity
        + DEATH_PER_RESERVE * reserve
        + DEATH_PER_AGE * age_z
    )


def dnr_logit(severity: float, age_z: float, dies: bool) -> float:
    return DNR_INTERCEPT + DNR_PER_SEVERITY * severity + DNR_PER_AGE * age_z + DNR_IF_DIES * dies


def stay_course(
    stay: Stay, dx: Diagnosis, dies: bool, rng: random.Random
) -> tuple[list[Stay], datetime | None, datetime]:
    """The stays of an admission (a bounce-back for some survivors), its death and discharge."""
    if dies:
        in_unit = rng.random() < DIES_IN_UNIT_RATE
        deathtime = stay.outtime if in_unit else stay.outtime + timedelta(days=rng.uniform(1, 6))
        return [stay], deathtime, deathtime
    stays = [stay]
    dischtime = stay.outtime + timedelta(days=rng.uniform(0.5, 6))
    if stay.los_days > 1 and dx is not NEWBORN and rng.random() < BOUNCE_BACK_RATE:
        bounce_in = stay.outtime + timedelta(days=rng.uniform(0.5, 2))
        bounce_out = bounce_in + timedelta(days=rng.uniform(0.6, 2.5))
        stays.append(
            Stay(stay.icustay_id + 1, bounce_in, bounce_out, dx.unit, stay.ward, stay.dbsource)
        )
        dischtime = bounce_out + timedelta(days=rng.uniform(1, 4))
    return stays, None, dischtime


def admission_route(dx: Diagnosis, rng: random.Random) -> tuple[str, str, bool]:
    """ADMISSION_TYPE, ADMISSION_LOCATION and whether the patient came through the ED."""
    if dx is NEWBORN:
        return "NEWBORN", "PHYS REFERRAL/NORMAL DELI", False
    if dx.key == "cabg":
        return "ELECTIVE", "PHYS REFERRAL/NORMAL DELI", False
    if rng.random() < URGENT_TRANSFER_RATE:
        return "URGENT", "TRANSFER FROM HOSP/EXTRAM", False
    return "EMERGENCY", "EMERGENCY ROOM ADMIT", True


def discharge_location(patient: Patient, severity: float, rng: random.Random) -> str:
    if patient.kind == "newborn":
        return "HOME"
    frail = severity > 0.5 or patient.model_age > 80
    return pick(WORDS.discharge_locations["frail" if frail else "other"], rng)
