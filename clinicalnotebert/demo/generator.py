"""Deterministic synthetic MIMIC-style demo data: notes, linked tables, signals, STS and NER sets.

The project ships no real notes, so ``data=demo`` generates this dataset on first use. Each
admission draws latents (severity, organ reserve, primary diagnosis, age); in-hospital death, ICU
length of stay and the DRG follow from them. The first day's notes carry the latents as varied
clinical cues and the hourly signals shift with them, so every prediction task is learnable from
text and from signals, while neither is a copy of the label.

Every random draw comes from a stream seeded by (seed, patient index), so the same arguments give
byte-identical files, and patient *i* is the same whatever ``n_patients`` is.
"""

from __future__ import annotations

import csv
import fcntl
import math
import random
import re
from collections import ChainMap, Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from clinicalnotebert.demo import vocab as V
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import atomic_dir, read_json, write_json_atomic

GENERATOR_VERSION = 1
DONE_FILE = "DONE.json"

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
READMISSION_RATE = 0.07  # survivors with a second admission
BOUNCE_BACK_RATE = 0.06  # survivors with a second ICU stay in the same admission
DIES_IN_UNIT_RATE = 0.8  # the rest die on the ward after the ICU stay
LATER_DEATH_RATE = 0.12  # survivors with a date of death after discharge
NOTE_TIER_NOISE = 0.55  # per-note noise on the severity tier a note's cues are drawn from
TERMINAL_CUE_RATE = 0.4  # chance that a first-day note of a dying patient hints at it
CHART_HOURS = 48  # hourly signals cover the first CHART_HOURS of every ICU stay

MIMIC3_FIRST_SUBJECT = 100
MIMIC4_FIRST_SUBJECT = 10_000_000
STS_SPLITS = {"train": 600, "dev": 200, "test": 200}
NER_SPLITS = {"train": 800, "devel": 200, "test": 200}


# ============================================================================================
# Public API


def generate_demo(
    out_dir: str | Path, n_patients: int = 400, n_mimic4_notes: int = 300, seed: int = 2024
) -> Path:
    """Write the whole demo dataset to ``out_dir`` and return it.

    The files are written into a temporary sibling that replaces ``out_dir`` (if any) only once
    complete; ``DONE.json`` is written last. Same arguments, byte-identical files.
    """
    if n_patients < 1 or n_mimic4_notes < 1:
        raise UserError(
            f"demo generator: n_patients ({n_patients}) and n_mimic4_notes ({n_mimic4_notes}) "
            "must be positive"
        )
    out_dir = Path(out_dir)
    args = {"n_patients": n_patients, "n_mimic4_notes": n_mimic4_notes, "seed": seed}
    with atomic_dir(out_dir) as tmp:
        counts = write_mimic3(tmp, n_patients, seed)
        counts.update(write_mimic4_notes(tmp / "mimic4_note", n_mimic4_notes, seed))
        counts.update(write_sts(tmp / "sts", seed))
        counts.update(write_ner(tmp / "finetune" / "ner", seed))
        (tmp / "README.md").write_text(readme_text(args, counts), encoding="utf-8")
        write_json_atomic(tmp / DONE_FILE, done_record(args))  # last: marks the set complete
    return out_dir


def ensure_demo(data_cfg) -> Path:
    """Generate the demo dataset into ``data_cfg.root`` unless a complete one is already there."""
    args = {
        "n_patients": cfg_int(data_cfg, "n_patients"),
        "n_mimic4_notes": cfg_int(data_cfg, "n_mimic4_notes"),
        "seed": cfg_int(data_cfg, "generator_seed"),
    }
    root = Path(str(cfg_value(data_cfg, "root"))).expanduser()
    with generation_lock(root):
        if not is_complete_demo(root, args):
            generate_demo(root, **args)
    return root


def cfg_value(cfg, key: str) -> Any:
    try:
        value = cfg[key]
    except (KeyError, AttributeError, TypeError) as missing:
        raise UserError(
            f"config key 'data.{key}' is missing (needed by the demo generator)"
        ) from missing
    if value is None:
        raise UserError(f"config key 'data.{key}' is null (needed by the demo generator)")
    return value


def cfg_int(cfg, key: str) -> int:
    value = cfg_value(cfg, key)
    try:
        return int(value)
    except (TypeError, ValueError) as bad:
        raise UserError(f"config key 'data.{key}' must be an integer, got {value!r}") from bad


def done_record(args: dict) -> dict:
    return {"generator": __name__, "version": GENERATOR_VERSION, **args}


def is_complete_demo(root: Path, args: dict) -> bool:
    """True for a finished dataset made with ``args``; refuses to touch a foreign directory."""
    if not root.exists():
        return False
    marker = root / DONE_FILE
    if root.is_dir() and not any(root.iterdir()):
        return False
    if not marker.is_file():
        raise UserError(
            f"data.root '{root}' exists but is not a complete demo dataset (no {DONE_FILE}); "
            "delete it or point data.root elsewhere"
        )
    found = read_json(marker)
    if found != done_record(args):
        raise UserError(
            f"data.root '{root}' holds demo data made with other arguments ({marker}); "
            "delete it or point data.root elsewhere"
        )
    return True


@contextmanager
def generation_lock(root: Path) -> Iterator[None]:
    """Serialise generation between processes (multirun jobs, DDP ranks) sharing one cache."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ============================================================================================
# Template rendering (shared by notes and the NER set, which keeps the entity spans)

SLOT = re.compile(r"\{(\w+)(?:\|(\w+))?\}")
FEMININE_TO_MASCULINE = {
    "she": "he",
    "She": "He",
    "her": "his",
    "Her": "His",
    "herself": "himself",
    "woman": "man",
}
FEMININE_WORD = re.compile(r"\b(" + "|".join(FEMININE_TO_MASCULINE) + r")\b")
Span = tuple[int, int, str]


@lru_cache(maxsize=4096)
def gendered(template: str, male: bool) -> str:
    return (
        FEMININE_WORD.sub(lambda m: FEMININE_TO_MASCULINE[m.group(1)], template)
        if male
        else template
    )


def render(template: str, slots, rng: random.Random, male: bool) -> tuple[str, list[Span]]:
    """Fill ``template``; return the text and the (start, end, type) spans of typed slots."""
    template = gendered(template, male)
    pieces: list[str] = []
    spans: list[Span] = []
    length = 0
    last = 0
    for match in SLOT.finditer(template):
        literal = template[last : match.start()]
        pieces.append(literal)
        length += len(literal)
        value = pick_unused(slots[match.group(1)], rng, pieces)
        if match.group(2):
            spans.append((length, length + len(value), match.group(2)))
        pieces.append(value)
        length += len(value)
        last = match.end()
    pieces.append(template[last:])
    text = "".join(pieces)
    return (text[0].upper() + text[1:] if text else text), spans


def pick(value, rng: random.Random):
    """A string stays; a tuple yields one element drawn at random."""
    if isinstance(value, str):
        return value
    return value[int(rng.random() * len(value))]


def pick_unused(value, rng: random.Random, used: list[str]) -> str:
    """Like :func:`pick`, but retries a few times to avoid repeating a fill within a sentence."""
    choice = pick(value, rng)
    for _ in range(3):
        if choice not in used:
            break
        choice = pick(value, rng)
    return choice


def sample(pool: Sequence, k: int, rng: random.Random) -> list:
    return rng.sample(list(pool), min(k, len(pool)))


SHARED_SLOTS: dict[str, Any] = {
    **V.TIER_SLOTS,
    **V.EXAM_SLOTS,
    **V.PLAN_SLOTS,
    **V.NURSING_SLOTS,
    **V.RESP_SLOTS,
    **V.PHARMACY_SLOTS,
    **V.RADIOLOGY_SLOTS,
    **V.NEONATAL_SLOTS,
    "neg_symptom": V.NEG_SYMPTOMS,
    "arrival_state": V.ARRIVAL_STATES,
    "dispo_rec": V.DISPO_RECS,
    "days": ("2", "3", "4", "5", "6"),
    "o2_any": ("room air", "2L NC", "4L nasal cannula", "a non-rebreather"),
}


# ============================================================================================
# Latent patients, admissions and ICU stays


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
    dx: V.Diagnosis
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


def patient_rng(source: str, seed: int, index: int) -> random.Random:
    # A string seed is hashed with SHA-512, so streams are stable across runs and platforms.
    return random.Random(f"{source}:{seed}:{index}")


def draw_patient(index: int, seed: int, source: str = "mimic3") -> Patient:
    rng = patient_rng(source, seed, index)
    first_subject = MIMIC3_FIRST_SUBJECT if source == "mimic3" else MIMIC4_FIRST_SUBJECT
    subject_id = first_subject + 7 * index + rng.randrange(7)
    u = rng.random()
    kind = (
        "newborn"
        if u < NEWBORN_SHARE
        else "elderly"
        if u < NEWBORN_SHARE + ELDERLY_SHARE
        else "adult"
    )
    gender = "M" if rng.random() < 0.55 else "F"
    admittime = datetime(rng.randrange(2100, 2195), 1, 1) + timedelta(
        days=rng.randrange(365), minutes=rng.randrange(24 * 60)
    )
    if kind == "newborn":
        age, dob = 0, admittime.replace(hour=0, minute=0)
    elif kind == "elderly":
        # MIMIC shifts the DOB of patients over 89 so that they appear ~300 years old.
        age = 300
        dob = datetime(admittime.year - 300, 1, 1) + timedelta(days=rng.randrange(365))
    else:
        age = int(min(89, max(18, rng.gauss(AGE_MEAN, AGE_SCALE))))
        dob = admittime - timedelta(days=int(age * 365.25) + rng.randrange(1, 360))
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
        home_meds=tuple(sample(V.HOME_MEDS, rng.randint(3, 8), rng)) if kind != "newborn" else (),
        social=draw_social(rng),
    )
    add_admissions(patient, rng, admittime)
    return patient


def possible_history(gender: str) -> tuple[str, ...]:
    other_sex = V.FEMALE_ONLY_PMH if gender == "M" else V.MALE_ONLY_PMH
    return tuple(item for item in V.PMH if item not in other_sex)


def draw_social(rng: random.Random) -> dict[str, str]:
    return {
        "INSURANCE": pick(
            ("Medicare", "Medicare", "Private", "Medicaid", "Government", "Self Pay"), rng
        ),
        "LANGUAGE": pick(("ENGL", "ENGL", "ENGL", "SPAN", "PORT", ""), rng),
        "RELIGION": pick(
            ("CATHOLIC", "PROTESTANT QUAKER", "JEWISH", "NOT SPECIFIED", "UNOBTAINABLE", "OTHER"),
            rng,
        ),
        "MARITAL_STATUS": pick(("MARRIED", "SINGLE", "WIDOWED", "DIVORCED", "SEPARATED", ""), rng),
        "ETHNICITY": pick(
            (
                "WHITE",
                "WHITE",
                "WHITE",
                "BLACK/AFRICAN AMERICAN",
                "HISPANIC OR LATINO",
                "ASIAN",
                "UNKNOWN/NOT SPECIFIED",
            ),
            rng,
        ),
    }


def choose_diagnosis(rng: random.Random) -> V.Diagnosis:
    return rng.choices(V.DIAGNOSES, weights=[d.weight for d in V.DIAGNOSES])[0]


def add_admissions(patient: Patient, rng: random.Random, admittime: datetime) -> None:
    """The index admission, sometimes a second ICU stay in it, sometimes a later readmission."""
    severity, reserve = rng.gauss(0, 1), rng.gauss(0, 1)
    dx = V.NEWBORN if patient.kind == "newborn" else choose_diagnosis(rng)
    first = draw_admission(patient, rng, 0, admittime, dx, severity, reserve)
    patient.admissions.append(first)
    if not first.died and patient.kind != "newborn" and rng.random() < READMISSION_RATE:
        later = first.dischtime + timedelta(days=rng.uniform(20, 600))
        patient.admissions.append(
            draw_admission(
                patient,
                rng,
                1,
                later,
                choose_diagnosis(rng),
                0.5 * severity + rng.gauss(0, 0.8),
                reserve,
            )
        )
    last = patient.admissions[-1]
    if last.died:
        patient.dod = patient.dod_hosp = midnight(last.deathtime)
        patient.dod_ssn = patient.dod if rng.random() < 0.7 else None
    elif rng.random() < LATER_DEATH_RATE:
        patient.dod = patient.dod_ssn = midnight(
            last.dischtime + timedelta(days=rng.uniform(5, 900))
        )


def midnight(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, moment.day)


def draw_admission(
    patient: Patient,
    rng: random.Random,
    number: int,
    admittime: datetime,
    dx: V.Diagnosis,
    severity: float,
    reserve: float,
) -> Admission:
    hadm_id = 100_000 + 4 * patient.index + number
    severity += dx.severity_shift
    age_z = (patient.model_age - AGE_MEAN) / AGE_SCALE if patient.kind != "newborn" else -1.0
    death_logit = (
        DEATH_INTERCEPT
        + DEATH_PER_SEVERITY * severity
        + DEATH_PER_RESERVE * reserve
        + DEATH_PER_AGE * age_z
    )
    dies = rng.random() < sigmoid(death_logit)
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
        ward=rng.choice((7, 12, 14, 15, 23, 33, 50, 52, 57)),
        dbsource="carevue" if rng.random() < 0.45 else "metavision",
    )
    stays = [stay]
    if dies:
        in_unit = rng.random() < DIES_IN_UNIT_RATE
        deathtime = stay.outtime if in_unit else stay.outtime + timedelta(days=rng.uniform(1, 6))
        dischtime = deathtime
    else:
        deathtime = None
        dischtime = stay.outtime + timedelta(days=rng.uniform(0.5, 6))
        if stay.los_days > 1 and dx is not V.NEWBORN and rng.random() < BOUNCE_BACK_RATE:
            bounce_in = stay.outtime + timedelta(days=rng.uniform(0.5, 2))
            stays.append(
                Stay(
                    stay.icustay_id + 1,
                    bounce_in,
                    bounce_in + timedelta(days=rng.uniform(0.6, 2.5)),
                    dx.unit,
                    stay.ward,
                    stay.dbsource,
                )
            )
            dischtime = stays[-1].outtime + timedelta(days=rng.uniform(1, 4))
    intubated = rng.random() < sigmoid(
        INTUBATION_SLOPE * (severity - INTUBATION_THRESHOLD) + dx.vent_shift
    )
    return Admission(
        hadm_id=hadm_id,
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
        dnr=rng.random()
        < sigmoid(
            DNR_INTERCEPT + DNR_PER_SEVERITY * severity + DNR_PER_AGE * age_z + DNR_IF_DIES * dies
        ),
        stays=stays,
    )


def admission_route(dx: V.Diagnosis, rng: random.Random) -> tuple[str, str, bool]:
    if dx is V.NEWBORN:
        return "NEWBORN", "PHYS REFERRAL/NORMAL DELI", False
    if dx.key == "cabg":
        return "ELECTIVE", "PHYS REFERRAL/NORMAL DELI", False
    if rng.random() < 0.2:
        return "URGENT", "TRANSFER FROM HOSP/EXTRAM", False
    return "EMERGENCY", "EMERGENCY ROOM ADMIT", True


def discharge_location(patient: Patient, severity: float, rng: random.Random) -> str:
    if patient.kind == "newborn":
        return "HOME"
    if severity > 0.5 or patient.model_age > 80:
        return pick(
            ("SNF", "REHAB/DISTINCT PART HOSP", "LONG TERM CARE HOSPITAL", "HOME HEALTH CARE"), rng
        )
    return pick(("HOME", "HOME", "HOME HEALTH CARE", "SNF"), rng)


# ============================================================================================
# Date formatting and de-identification placeholders

TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def ts(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime(TS_FORMAT)


def date_only(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


class Deid:
    """MIMIC-III ``[**...**]`` tags or MIMIC-IV ``___`` placeholders."""

    def __init__(self, style: str, rng: random.Random):
        self.style = style
        self.rng = rng

    def date(self, moment: datetime) -> str:
        if self.style == "iv":
            return "___"
        return f"[**{moment.year}-{moment.month}-{moment.day}**]"

    def name(self) -> str:
        if self.style == "iv":
            return "___"
        return f"[**{pick(V.NAME_TAGS, self.rng)} {self.rng.randrange(1, 9999)}**]"

    def tag(self) -> str:
        if self.style == "iv":
            return "___"
        return f"[**{pick(V.OTHER_TAGS, self.rng)} {self.rng.randrange(1, 999)}**]"

    def age_over_89(self) -> str:
        return "___" if self.style == "iv" else "[**Age over 90 **]"


def clock(moment: datetime) -> str:
    """MIMIC note clock style, e.g. ``8:14 PM``."""
    return moment.strftime("%I:%M %p").lstrip("0")


# ============================================================================================
# Note writing


@dataclass
class Note:
    category: str
    description: str
    moment: datetime
    text: str
    has_time: bool = True


class Writer:
    """Renders the notes of one admission: slots bound to the patient, one random stream."""

    def __init__(self, patient: Patient, adm: Admission, rng: random.Random, style: str = "iii"):
        self.patient, self.adm, self.rng = patient, adm, rng
        self.deid = Deid(style, rng)
        self.style = style
        self.slots = ChainMap(self.patient_slots(), SHARED_SLOTS)

    # ---- slots -----------------------------------------------------------------------------
    def patient_slots(self) -> dict[str, Any]:
        patient, adm, dx = self.patient, self.adm, self.adm.dx
        means = signal_means(adm, patient)
        return {
            "who": self.who(),
            "dx": dx.names,
            "dx_plain": dx.names[0],
            "complaint": dx.complaints,
            "finding": dx.findings,
            "test": dx.tests,
            "treatment": dx.treatments,
            "unit": dx.unit,
            "pmh": patient.pmh or ("no significant past medical history",),
            "home_drug": tuple(name for name, _ in patient.home_meds) or ("none",),
            "code_status": "DNR/DNI" if adm.dnr else "Full code",
            "temp_f": f"{means['temperature'] * 9 / 5 + 32 + self.rng.uniform(0, 1.2):.1f}",
            "hr": str(round(means["heart rate"] + self.rng.uniform(0, 10))),
            "sbp": str(round(means["systolic blood pressure"] - self.rng.uniform(0, 10))),
            "dbp": str(round(means["diastolic blood pressure"] - self.rng.uniform(0, 6))),
            "rr": str(round(means["respiratory rate"] + self.rng.uniform(0, 3))),
            "spo2": str(min(100, round(means["oxygen saturation"]))),
            "wbc": f"{means['white blood cell count']:.1f}",
            "creat": f"{means['creatinine']:.1f}",
            "lactate": f"{means['lactate']:.1f}",
            "weight": str(self.rng.randrange(48, 120)),
        }

    def who(self) -> tuple[str, ...]:
        patient = self.patient
        noun = "man" if patient.male else "woman"
        if patient.kind == "newborn":
            sex = "boy" if patient.male else "girl"
            return (f"day of life 1 ex-{self.rng.randrange(28, 36)} week infant {sex}",)
        age = self.deid.age_over_89() if patient.kind == "elderly" else str(patient.age)
        letter = patient.gender
        return (
            f"{age} year old {noun}",
            f"{age} y/o {letter}",
            f"{age} yo {noun}",
            f"{age}{letter}",
        )

    # ---- small pieces ----------------------------------------------------------------------
    def say(self, template: str) -> str:
        return render(template, self.slots, self.rng, self.patient.male)[0]

    def says(self, pool: Sequence[str], k: int) -> list[str]:
        return [self.say(t) for t in sample(pool, k, self.rng)]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def tier(self, day: int = 0) -> int:
        """Severity tier a note's cues come from; after day 0 it drifts towards the outcome."""
        drift = 0.0 if day == 0 else (0.6 * day if self.adm.died else -0.5 * day)
        raw = self.adm.severity + 1.1 + drift + self.rng.gauss(0, NOTE_TIER_NOISE)
        return max(0, min(3, int(raw)))

    def cues(self, day: int = 0, k: int = 2) -> list[str]:
        """Severity, flag and (for the dying) terminal cues for one note."""
        adm = self.adm
        found = self.says(V.CUES[self.tier(day)], k)
        if adm.intubated and self.chance(0.7):
            found.append(self.say(pick(V.FLAG_CUES["intubated"], self.rng)))
        if adm.pressors and self.chance(0.7):
            found.append(self.say(pick(V.FLAG_CUES["pressors"], self.rng)))
        if self.chance(0.35):
            found.append(self.say(pick(V.FLAG_CUES["dnr" if adm.dnr else "full_code"], self.rng)))
        if adm.died and self.chance(TERMINAL_CUE_RATE + 0.15 * day):
            found.append(self.say(pick(V.TERMINAL_CUES, self.rng)))
        self.rng.shuffle(found)
        return found

    def hpi(self, low: int, high: int) -> str:
        opening = self.say(pick(V.HPI_OPENINGS, self.rng))
        return " ".join([opening, *self.says(V.HPI_SENTENCES, self.rng.randint(low, high))])

    def dx_label(self) -> str:
        name = pick(self.adm.dx.names, self.rng)
        return name[0].upper() + name[1:]

    # ---- note types --------------------------------------------------------------------------
    def physician(self, day: int) -> str:
        adm, moment = self.adm, self.adm.stays[0].intime + timedelta(days=day)
        lines = [f"Chief Complaint:  {pick(adm.dx.complaints, self.rng)}", "HPI:", self.hpi(3, 6)]
        lines += ["24 Hour Events:"] + [f" - {c}" for c in self.cues(day, 2)]
        lines += ["Allergies:", pick(V.ALLERGIES, self.rng)]
        if adm.pressors or adm.intubated:
            drug = pick(V.PRESSORS if adm.pressors else V.SEDATIVES, self.rng)
            lines += [
                "Infusions:",
                f"{drug} - {self.rng.choice(('0.08', '0.12', '0.2', '0.3'))} mcg/Kg/min",
            ]
        lines += [
            "Other ICU medications:",
            f"Heparin Sodium (Prophylaxis) - {self.deid.date(moment)} {clock(moment)}",
        ]
        lines += [f"Flowsheet Data as of  {self.deid.date(moment)} {clock(moment)}", "Vital signs"]
        lines += self.flowsheet()
        lines += ["Physical Examination"] + [self.say(t) for t in V.EXAM_LINES]
        lines += ["Labs / Radiology"] + self.lab_block()
        lines += [
            "Assessment and Plan",
            self.say("{who} with {pmh|problem} admitted with {dx|problem}."),
        ]
        lines += self.problem_paragraphs(day)
        lines += ["ICU Care"] + [self.say(t) for t in V.ICU_PROPHYLAXIS]
        return "\n".join(lines)

    def flowsheet(self) -> list[str]:
        s = self.slots
        return [
            f"Tmax: {(float(s['temp_f']) - 32) * 5 / 9:.1f} C ({s['temp_f']} F)",
            f"HR: {s['hr']} ({int(s['hr']) - 12} - {int(s['hr']) + 15}) bpm",
            f"BP: {s['sbp']}/{s['dbp']} mmHg",
            f"RR: {s['rr']} insp/min",
            f"SpO2: {s['spo2']}%",
        ]

    def lab_block(self) -> list[str]:
        s = self.slots
        return [
            f"WBC {s['wbc']}   Hct {self.rng.uniform(24, 42):.1f}   Plt {self.rng.randrange(60, 420)}",
            f"Na {self.rng.randrange(128, 147)}  K {self.rng.uniform(3.2, 5.6):.1f}  Cr {s['creat']}  "
            f"Glu {self.rng.randrange(80, 320)}",
            f"Lactic Acid: {s['lactate']} mmol/L",
        ]

    def problem_paragraphs(self, day: int) -> list[str]:
        paragraphs = [
            f"# {self.dx_label()}: " + " ".join(self.cues(day, 2) + self.says(V.PLAN_SENTENCES, 3))
        ]
        for problem in self.patient.pmh[: self.rng.randint(1, 3)]:
            paragraphs.append(f"# {problem}: " + " ".join(self.says(V.PLAN_SENTENCES, 1)))
        return paragraphs

    def nursing_other(self, day: int) -> str:
        """Carevue-era free-text progress note with a systems review."""
        shift = pick(V.NURSING_SHIFTS, self.rng)
        lines = [f"Nursing Progress Note {shift}:"]
        flagged = self.flag_lines()
        for system, pool in V.NURSING_SYSTEMS.items():
            said = self.says(pool, self.rng.randint(1, 2))
            if system in flagged:
                said = [self.say(flagged[system]), *said[1:]]
            lines.append(f"{system}: {' '.join(said)}")
        # Some nurses write a lot more than others.
        extra = self.says(V.NURSING_EXTRA, self.rng.choice((0, 0, 3, 6, 12)))
        plan = [*self.cues(day, 2), *extra, self.say(pick(V.PLAN_SENTENCES, self.rng))]
        lines.append("A/P: " + " ".join(plan))
        return "\n".join(lines)

    def flag_lines(self) -> dict[str, str]:
        lines: dict[str, str] = {}
        for flag, by_system in V.NURSING_FLAG_LINES.items():
            if getattr(self.adm, flag):
                lines.update(by_system)
        return lines

    def nursing(self, day: int) -> str:
        """Metavision-era care-plan note: problem, Assessment, Action, Response, Plan."""
        blocks = []
        flagged = self.flag_lines()
        cv_line = (
            self.say(flagged["CV"]) if "CV" in flagged else self.says(V.NURSING_SYSTEMS["CV"], 1)[0]
        )
        for problem in [self.dx_label()] + list(self.patient.pmh[: self.rng.randint(0, 2)]):
            blocks += [
                f"{problem[0].upper()}{problem[1:]}",
                "Assessment:",
                " ".join([*self.cues(day, 2), cv_line]),
                "Action:",
                " ".join(self.says(V.PLAN_SENTENCES, 2)),
                "Response:",
                pick(V.CAREPLAN_RESPONSES[self.tier(day)], self.rng),
                "Plan:",
                self.say(pick(V.PLAN_SENTENCES, self.rng)),
            ]
        return "\n".join(blocks)

    def radiology(self, moment: datetime, study: str, later: tuple[str, ...] = ()) -> str:
        """A report; ``later`` holds the main findings of a given study (else the diagnosis')."""
        adm = self.adm
        region = next((key for key in V.RADIOLOGY_REASONS if key in study), "OTHER")
        reason = pick(V.RADIOLOGY_REASONS[region], self.rng)
        main, impression = (list(later), later[0]) if later else self.first_findings(study)
        cross_sectional = study.startswith("CT") or "U.S." in study
        pool = V.RADIOLOGY_DETAILS[region]
        if cross_sectional:
            pool += V.RADIOLOGY_CT_DETAILS.get(region, ())
        count = self.rng.randint(12, len(pool)) if cross_sectional else self.rng.randint(3, 6)
        details = self.says(pool, count)
        findings = " ".join(main[:1] + details + main[1:])
        impressions = [
            impression,
            *sample(main[1:-1] + details[:1], self.rng.randint(0, 2), self.rng),
        ]
        numbered = "\n".join(f"{i}. {line}" for i, line in enumerate(impressions, 1))
        technique = pick(V.RADIOLOGY_TECHNIQUES[technique_key(study, region)], self.rng)
        comparison = (
            self.deid.date(moment - timedelta(days=self.rng.randrange(30, 900)))
            if self.chance(0.5)
            else "None."
        )
        if self.style == "iv":
            return "\n\n".join(
                [
                    f"EXAMINATION:  {study}",
                    f"INDICATION:  {self.say('{who}')} with {pick(adm.dx.names, self.rng)} // {reason}",
                    f"TECHNIQUE:  {technique}",
                    f"COMPARISON:  {comparison}",
                    f"FINDINGS: \n\n{findings}",
                    f"IMPRESSION: \n\n{numbered}",
                ]
            )
        rule = "_" * 78
        header = [
            f"{self.deid.date(moment)} {clock(moment)}",
            f" {study:<64}Clip # [**Clip Number (Radiology) {self.rng.randrange(10000, 99999)}**]",
            f" Reason: {reason}",
            f" Admitting Diagnosis: {pick(adm.dx.admit_dx, self.rng)}",
            f" {rule}",
            f" {self.deid.tag()} MEDICAL CONDITION:",
            f"  {self.say('{who}')} with {pick(adm.dx.names, self.rng)}",
            " REASON FOR THIS EXAMINATION:",
            f"  {reason}",
            f" {rule}",
        ]
        if self.chance(0.3):
            header += [
                " WET READ: " + f"{self.deid.name()} {clock(moment)}",
                f"  {impression}",
                f" {rule}",
            ]
        header.append("                                 FINAL REPORT")
        history = (
            [f" CLINICAL HISTORY: {self.say(pick(V.HPI_OPENINGS, self.rng))}"]
            if cross_sectional
            else []
        )
        body = [
            *history,
            f" INDICATION: {pick(adm.dx.complaints, self.rng)}, {reason}.",
            f" TECHNIQUE: {technique}",
            f" COMPARISON: {comparison}",
            f" FINDINGS: {findings}",
            f" IMPRESSION:\n {numbered}",
        ]
        return "\n".join(header) + "\n\n" + "\n\n".join(body)

    def first_findings(self, study: str) -> tuple[list[str], str]:
        adm = self.adm
        sentences = []
        if adm.intubated and "CHEST" in study:
            sentences.append("Endotracheal tube terminates 4 cm above the carina.")
        if adm.pressors:
            sentences.append("Right internal jugular central line tip in the SVC.")
        if "CHEST" in study:
            sentences += [finding_sentence(self.rng) for _ in range(self.rng.randint(1, 3))]
        impression = pick(adm.dx.impressions, self.rng)
        if adm.severity > 1.2 and "CHEST" in study:
            impression += " " + pick(V.WORSENING_IMPRESSIONS, self.rng)
        sentences.append(impression)
        return sentences, impression

    def ecg(self) -> str:
        rhythm, finding = pick(V.ECG_READINGS, self.rng)
        if self.adm.severity > 1.0 and self.chance(0.6):
            rhythm = "Sinus tachycardia."
        return f"{rhythm} {finding} {pick(V.ECG_COMPARISONS, self.rng)}"

    def echo(self) -> str:
        s = self.slots
        lines = [
            "PATIENT/TEST INFORMATION:",
            f"Indication: {pick(self.adm.dx.names, self.rng)}. Evaluate LV function.",
            f"Height: (in) {self.rng.randrange(58, 76)}",
            f"Weight (lb): {self.rng.randrange(100, 260)}",
            f"BP (mm Hg): {s['sbp']}/{s['dbp']}",
            f"HR (bpm): {s['hr']}",
            *V.ECHO_HEADER,
            "",
            "INTERPRETATION:",
            "",
            "Findings:",
            "",
        ]
        lines += sample(V.ECHO_FINDINGS, self.rng.randint(8, 14), self.rng)
        lines += ["", "Conclusions:", " ".join(sample(V.ECHO_FINDINGS, 2, self.rng))]
        return "\n".join(lines)

    def short_note(self, pool: Sequence[str], k: tuple[int, int], heading: str = "") -> str:
        body = "\n".join(self.says(pool, self.rng.randint(*k)))
        return f"{heading}\n{body}" if heading else body

    def consult(self) -> str:
        """A specialist's consult: their own history, exam and recommendations."""
        service = pick(V.PLAN_SLOTS["consult_service"], self.rng)
        lines = [
            f"{service.title()} Consult Note",
            "Reason for consult:",
            self.say(V.CONSULT_SENTENCES[0]),
        ]
        lines += ["HPI:", self.hpi(4, 7), "Past Medical History:", self.home_med_list()]
        lines += ["Physical Exam:"] + [self.say(t) for t in V.EXAM_LINES] + self.lab_block()
        lines += ["Assessment and Recommendations:"] + self.says(V.CONSULT_SENTENCES[1:], 4)
        lines += self.says(V.PLAN_SENTENCES, self.rng.randint(2, 4))
        return "\n".join(lines)

    def respiratory(self) -> str:
        body = self.says(V.RESP_SENTENCES, self.rng.randint(3, 6))
        if not self.adm.intubated:
            body = [self.say("Pt on {o2_mid}, no distress noted."), *body[1:]]
        return "Respiratory Care Note:\n" + " ".join(body)

    def discharge(self) -> str:
        """A long discharge summary; it may state the outcome (prediction tasks exclude it)."""
        blank = "\n \n" if self.style == "iv" else "\n\n"  # MIMIC-IV separates with " \n"
        if self.patient.kind == "newborn":
            return blank.join(self.dates_header() + self.newborn_sections())
        sections = [f"{title}:\n{text}" for title, text in self.summary_sections()]
        signature = f"{self.deid.name()} {self.deid.name()} MD {self.deid.tag()}"
        completed = f"Completed by:{self.deid.date(self.adm.dischtime)}"
        return blank.join([*self.summary_header(), *sections, signature, completed])

    def dates_header(self) -> list[str]:
        adm, deid, patient = self.adm, self.deid, self.patient
        return [
            f"Admission Date:  {deid.date(adm.admittime)}              "
            f"Discharge Date:   {deid.date(adm.dischtime)}",
            f"Date of Birth:  {deid.date(patient.dob)}             Sex:   {patient.gender}",
        ]

    def summary_header(self) -> list[str]:
        name_line = ["Name:  ___                     Unit No:   ___"] if self.style == "iv" else []
        return [
            *name_line,
            *self.dates_header(),
            f"Service: {self.adm.dx.service}",
            f"Allergies:\n{pick(V.ALLERGIES, self.rng)}",
            f"Attending:{self.deid.name()}",
        ]

    def summary_sections(self) -> list[tuple[str, str]]:
        adm, patient, s = self.adm, self.patient, self.slots
        vitals = f"Vitals: T {s['temp_f']} BP {s['sbp']}/{s['dbp']} HR {s['hr']} RR {s['rr']} O2 {s['spo2']}%"
        history = "\n".join(f"{i}. {item}" for i, item in enumerate(patient.pmh, 1))
        return [
            ("Chief Complaint", pick(adm.dx.complaints, self.rng)),
            ("Major Surgical or Invasive Procedure", self.procedures()),
            ("History of Present Illness", self.hpi(6, 9)),
            ("Past Medical History", history or "None"),
            ("Social History", " ".join(pick(options, self.rng) for options in V.SOCIAL_HISTORY)),
            ("Family History", pick(V.FAMILY_HISTORY, self.rng)),
            ("Physical Exam", "\n".join([vitals, *(self.say(t) for t in V.EXAM_LINES)])),
            ("Pertinent Results", self.pertinent_results()),
            ("Brief Hospital Course", self.hospital_course()),
            ("Medications on Admission", self.home_med_list()),
            *self.outcome_sections(),
        ]

    def outcome_sections(self) -> list[tuple[str, str]]:
        """What a summary says after the course: an expired patient gets no plans."""
        adm = self.adm
        diagnosis = f"Primary: {pick(adm.dx.names, self.rng)}\nSecondary: {', '.join(self.patient.pmh) or 'none'}"
        if adm.died:
            return [
                ("Discharge Medications", "None"),
                ("Discharge Disposition", "Expired"),
                ("Discharge Diagnosis", diagnosis),
                ("Discharge Condition", "Expired"),
                ("Discharge Instructions", "None"),
                ("Followup Instructions", "None"),
            ]
        changes = [med_change_sentence(self.rng) for _ in range(self.rng.randint(1, 3))]
        instructions = self.says(V.DISCHARGE_INSTRUCTIONS, self.rng.randint(3, 5)) + changes
        followup = f"Please follow up with your primary care physician Dr. {self.deid.name()} in 1-2 weeks."
        return [
            ("Discharge Medications", self.discharge_meds()),
            ("Discharge Disposition", pick(V.DISPOSITIONS_ALIVE, self.rng)),
            ("Discharge Diagnosis", diagnosis),
            ("Discharge Condition", pick(V.DISCHARGE_CONDITIONS, self.rng)),
            ("Discharge Instructions", " ".join(instructions)),
            ("Followup Instructions", followup),
        ]

    def newborn_sections(self) -> list[str]:
        return [
            "Service: NB",
            "HISTORY OF PRESENT ILLNESS:\n" + " ".join(self.says(V.NEONATAL_COURSE[:2], 2)),
            "HOSPITAL COURSE BY SYSTEMS:\n" + " ".join(self.says(V.NEONATAL_COURSE[2:], 4)),
            "DISCHARGE DISPOSITION:\nHome with parents.",
            f"DISCHARGE DIAGNOSES:\n1. {self.say('{dx}')}\n2. Hyperbilirubinemia",
            f"{self.deid.name()}, MD {self.deid.tag()}",
        ]

    def procedures(self) -> str:
        done = []
        if self.adm.intubated:
            done.append("Endotracheal intubation")
        if self.adm.pressors:
            done.append("Right internal jugular central venous line placement")
        if self.adm.dx.key in V.PROCEDURES:
            done.append(V.PROCEDURES[self.adm.dx.key])
        return "\n".join(done) or "None"

    def home_med_list(self) -> str:
        meds = self.patient.home_meds
        return "\n".join(f"{i}. {name} {sig}" for i, (name, sig) in enumerate(meds, 1)) or "None"

    def pertinent_results(self) -> str:
        s, rng, moment = self.slots, self.rng, self.adm.stays[0].intime
        stamp = f"{self.deid.date(moment)} {clock(moment).replace(' ', '')}"
        blood = f"RBC-{rng.uniform(2.8, 5):.2f} HGB-{rng.uniform(7, 15):.1f} PLT COUNT-{rng.randrange(60, 420)}"
        chemistry = (
            f"GLUCOSE-{rng.randrange(70, 400)} UREA N-{rng.randrange(8, 90)} CREAT-{s['creat']}"
        )
        imaging = (
            f"{self.adm.dx.study} {self.deid.date(moment)}: {pick(self.adm.dx.impressions, rng)}"
        )
        return "\n".join(
            (
                f"{stamp}   WBC-{s['wbc']} {blood}",
                f"{stamp}   {chemistry} SODIUM-{rng.randrange(128, 148)}",
                f"{stamp}   LACTATE-{s['lactate']}",
                "",
                imaging,
            )
        )

    def hospital_course(self) -> str:
        adm = self.adm
        history = ", ".join(self.patient.pmh[:3]) or "no prior history"
        paragraphs = [self.say(f"{{who}} with {history} who presented with {{complaint}}.")]
        paragraphs.append(
            f"# {self.dx_label()}: "
            + " ".join(self.says(V.COURSE_SENTENCES, self.rng.randint(4, 6)))
        )
        for problem in self.patient.pmh[:3]:
            paragraphs.append(
                f"# {problem}: "
                + " ".join(self.says(V.COURSE_SENTENCES, 1) + self.says(V.PLAN_SENTENCES, 1))
            )
        outcome = V.DEATH_COURSE if adm.died else V.OUTCOME_GOOD
        paragraphs.append(" ".join(self.says(outcome, self.rng.randint(2, 3))))
        return "\n\n".join(paragraphs)

    def discharge_meds(self) -> str:
        if self.adm.died:
            return "None"
        lines = []
        for i, (name, sig) in enumerate(self.patient.home_meds, 1):
            form = pick(V.DOSE_FORMS, self.rng)
            tablet = TABLET_SIG.match(sig)
            if tablet:
                dose, route_freq = tablet.groups()
                lines.append(f"{i}. {name.title()} {dose} {form} Sig: One (1) {form} {route_freq}.")
            else:
                lines.append(f"{i}. {name.title()} {sig}.")
            lines.append(
                f"Disp:*{self.rng.choice((30, 60, 90))} {form}(s)* Refills:*{self.rng.randrange(0, 3)}*"
            )
        return "\n".join(lines) or "None"


def technique_key(study: str, region: str) -> str:
    if study.startswith("CT"):
        return "CT W/O" if "W/O" in study else "CT W/"
    return region


TABLET_SIG = re.compile(r"^(\S+ (?:mg|mcg)) (PO .+)$")


def med_change_sentence(rng: random.Random) -> str:
    """A medication instruction from the same frames (and words) as the STS medication pairs."""
    frame = random_med_frame(rng)
    frame["negated"] = rng.random() < 0.4
    return realise_med(frame, rng, template_index=None, synonym_seed=None)


def finding_sentence(rng: random.Random) -> str:
    """One radiology finding sentence from the same frame vocabulary the STS pairs use."""
    frame = random_finding_frame(rng)
    frame["negated"] = rng.random() < 0.4
    return realise_finding(frame, rng, template_index=None, synonym_seed=None)


# ============================================================================================
# The MIMIC-III note schedule of one admission


def admission_notes(
    patient: Patient, adm: Admission, rng: random.Random, first_admission: bool
) -> list[Note]:
    """Notes of one admission: a dense first ICU day, a few later notes, a discharge summary."""
    w = Writer(patient, adm, rng)
    stay = adm.stays[0]
    if first_admission:
        notes = early_notes(w, stay)
    else:  # a readmission is documented more thinly
        moment = stay.intime + timedelta(hours=rng.uniform(-6, 6))
        notes = [Note("Radiology", adm.dx.study, moment, w.radiology(moment, adm.dx.study))]
    notes += later_notes(w, stay)
    for extra in adm.stays[1:]:
        notes.append(nursing_note(w, extra, extra.intime + timedelta(hours=rng.uniform(2, 10)), 2))
    notes = [n for n in notes if n.moment <= adm.dischtime]  # nobody writes after death
    end = midnight(adm.dischtime)
    notes.append(Note("Discharge summary", "Report", end, w.discharge(), has_time=False))
    if rng.random() < 0.08:
        notes.append(Note("Discharge summary", "Addendum", end, addendum(w), has_time=False))
    return notes


def nursing_note(w: Writer, stay: Stay, moment: datetime, day: int) -> Note:
    """Carevue-era 'Nursing/other' free text, metavision-era 'Nursing' care plans, or NICU."""
    if w.patient.kind == "newborn":
        text = w.short_note(V.NEONATAL_SENTENCES, (5, 9), "NICU Nursing Progress Note:")
    else:
        text = w.nursing_other(day) if stay.dbsource == "carevue" else w.nursing(day)
    if stay.dbsource == "carevue":
        return Note("Nursing/other", "Report", moment, text)
    return Note("Nursing", "Nursing Progress Note", moment, text)


def early_notes(w: Writer, stay: Stay) -> list[Note]:
    """Notes charted between INTIME - 12 h and INTIME + 24 h: they carry the learnable cues."""
    adm, rng, adult = w.adm, w.rng, w.patient.kind != "newborn"

    def at(lo: float, hi: float) -> datetime:
        return stay.intime + timedelta(hours=rng.uniform(lo, hi))

    first_image = at(-10, 6)  # often taken in the ED, before the ICU admission
    notes = [Note("Radiology", adm.dx.study, first_image, w.radiology(first_image, adm.dx.study))]
    if adm.intubated or rng.random() < 0.3:
        moment = at(2, 20)
        notes.append(Note("Radiology", CHEST_FILM, moment, w.radiology(moment, CHEST_FILM)))
    if adm.dx.key in V.EARLY_CT and rng.random() < V.EARLY_CT_RATE:
        study, *findings = V.EARLY_CT[adm.dx.key]
        moment = at(-6, 12)
        notes.append(Note("Radiology", study, moment, w.radiology(moment, study, tuple(findings))))
    if rng.random() < 0.75 and adult:
        notes.append(Note("ECG", "Report", midnight(adm.admittime), w.ecg(), has_time=False))
    for _ in range(rng.randint(1, 2) if stay.dbsource == "metavision" else rng.randint(2, 3)):
        notes.append(nursing_note(w, stay, at(3, 23.5), 0))
    if stay.dbsource == "metavision" and adult:  # physician notes start with metavision
        notes.append(
            Note("Physician ", "Physician Resident Admission Note", at(1, 9), w.physician(0))
        )
        if rng.random() < 0.5:
            notes.append(Note("Physician ", "Intensivist Note", at(9, 23.5), w.physician(0)))
        if (adm.intubated or adm.dx.key in ("copd", "pneumonia")) and rng.random() < 0.7:
            note = Note("Respiratory ", "Respiratory Care Shift Note", at(2, 23.5), w.respiratory())
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
        if stay.dbsource == "metavision" and rng.random() < 0.6 and adult:
            progress = moment + timedelta(hours=1)
            notes.append(
                Note("Physician ", "Physician Resident Progress Note", progress, w.physician(day))
            )
    span_hours = max(25.0, (adm.dischtime - stay.intime).total_seconds() / 3600 - 1)

    def at() -> datetime:
        return stay.intime + timedelta(hours=rng.uniform(25, span_hours))

    if rng.random() < 0.6:
        study, *findings = pick(V.RADIOLOGY_LATER_STUDIES, rng)
        moment = at()
        notes.append(Note("Radiology", study, moment, w.radiology(moment, study, tuple(findings))))
    if rng.random() < 0.3 and adult:
        notes.append(Note("Echo", "Report", midnight(at()), w.echo(), has_time=False))
    notes += allied_notes(w, at, scale=1.0)
    return notes


CHEST_FILM = "CHEST (PORTABLE AP)"


def allied_notes(w: Writer, when: Callable[[], datetime], scale: float) -> list[Note]:
    """Allied-health and consult notes, each with its own chance (``scale`` lowers them)."""
    if w.patient.kind == "newborn":
        return []
    notes = []
    for kind in V.ALLIED_NOTES:
        rate = kind.rate_if_dies if w.adm.died else kind.rate_if_survives
        if w.chance(rate * scale):
            text = w.short_note(kind.sentences, kind.sentence_range, kind.heading)
            notes.append(Note(kind.category, kind.description, when(), text))
    if w.chance(V.CONSULT_RATE * scale):
        notes.append(Note("Consult", "Consult Note", when(), w.consult()))
    return notes


def addendum(w: Writer) -> str:
    seen = w.say("Patient was seen and examined on the day of discharge.")
    return f"Addendum:\n{seen} {w.say(pick(V.PLAN_SENTENCES, w.rng))}"


# ============================================================================================
# CSV writing


class Table:
    """A CSV file written row by row, with ROW_ID (when present) numbered from 1."""

    def __init__(self, path: Path, columns: Sequence[str]):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 (see close)
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow(columns)
        self.numbered = columns[0] == "ROW_ID"
        self.rows = 0

    def add(self, row: Sequence) -> None:
        self.rows += 1
        self.writer.writerow([self.rows, *row] if self.numbered else row)

    def add_many(self, rows: list[Sequence]) -> None:
        if self.numbered:
            rows = [[self.rows + i, *row] for i, row in enumerate(rows, 1)]
        self.writer.writerows(rows)
        self.rows += len(rows)

    def close(self) -> int:
        self.handle.close()
        return self.rows

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info) -> None:
        self.handle.close()


MIMIC3_COLUMNS = {
    "PATIENTS": ("ROW_ID", "SUBJECT_ID", "GENDER", "DOB", "DOD", "DOD_HOSP", "DOD_SSN", "EXPIRE_FLAG"),
    "ADMISSIONS": (
        "ROW_ID", "SUBJECT_ID", "HADM_ID", "ADMITTIME", "DISCHTIME", "DEATHTIME", "ADMISSION_TYPE",
        "ADMISSION_LOCATION", "DISCHARGE_LOCATION", "INSURANCE", "LANGUAGE", "RELIGION",
        "MARITAL_STATUS", "ETHNICITY", "EDREGTIME", "EDOUTTIME", "DIAGNOSIS",
        "HOSPITAL_EXPIRE_FLAG", "HAS_CHARTEVENTS_DATA",
    ),
    "ICUSTAYS": (
        "ROW_ID", "SUBJECT_ID", "HADM_ID", "ICUSTAY_ID", "DBSOURCE", "FIRST_CAREUNIT",
        "LAST_CAREUNIT", "FIRST_WARDID", "LAST_WARDID", "INTIME", "OUTTIME", "LOS",
    ),
    "DRGCODES": (
        "ROW_ID", "SUBJECT_ID", "HADM_ID", "DRG_TYPE", "DRG_CODE", "DESCRIPTION", "DRG_SEVERITY",
        "DRG_MORTALITY",
    ),
    "NOTEEVENTS": (
        "ROW_ID", "SUBJECT_ID", "HADM_ID", "CHARTDATE", "CHARTTIME", "STORETIME", "CATEGORY",
        "DESCRIPTION", "CGID", "ISERROR", "TEXT",
    ),
    "CHARTEVENTS": (
        "ROW_ID", "SUBJECT_ID", "HADM_ID", "ICUSTAY_ID", "ITEMID", "CHARTTIME", "STORETIME", "CGID",
        "VALUE", "VALUENUM", "VALUEUOM", "WARNING", "ERROR", "RESULTSTATUS", "STOPPED",
    ),
    "LABEVENTS": (
        "ROW_ID", "SUBJECT_ID", "HADM_ID", "ITEMID", "CHARTTIME", "VALUE", "VALUENUM", "VALUEUOM", "FLAG",
    ),
    "D_ITEMS": (
        "ROW_ID", "ITEMID", "LABEL", "ABBREVIATION", "DBSOURCE", "LINKSTO", "CATEGORY", "UNITNAME",
        "PARAM_TYPE", "CONNECTED_TO", "CONCEPTID",
    ),
    "D_LABITEMS": ("ROW_ID", "ITEMID", "LABEL", "FLUID", "CATEGORY", "LOINC_CODE"),
}  # fmt: skip
EXTRACT_COLUMNS = {
    "map": ("LEVEL2", "LEVEL1", "ALTERNATIVE", "ITEMID", "MIMIC LABEL", "UNITNAME", "LINKSTO", "COUNT", "STATUS"),
    "ranges": ("LEVEL1", "LEVEL2", "OUTLIER LOW", "VALID LOW", "IMPUTE", "VALID HIGH", "OUTLIER HIGH"),
}  # fmt: skip


def write_mimic3(root: Path, n_patients: int, seed: int) -> dict[str, int]:
    """All MIMIC-III tables plus the MIMIC-Extract resources; returns row counts."""
    directory = root / "mimic3"
    names = (
        "PATIENTS",
        "ADMISSIONS",
        "ICUSTAYS",
        "DRGCODES",
        "NOTEEVENTS",
        "CHARTEVENTS",
        "LABEVENTS",
    )
    item_counts: Counter = Counter()
    with ExitStack() as open_tables:
        tables = {
            n: open_tables.enter_context(Table(directory / f"{n}.csv", MIMIC3_COLUMNS[n]))
            for n in names
        }
        for index in range(n_patients):
            patient = draw_patient(index, seed)
            write_patient_rows(patient, tables)
            rng = patient_rng("notes", seed, index)
            for number, adm in enumerate(patient.admissions):
                notes = admission_notes(patient, adm, rng, first_admission=number == 0)
                tables["NOTEEVENTS"].add_many(note_rows(patient, adm, notes, rng))
                for stay in adm.stays:
                    chart, labs = stay_signals(patient, adm, stay, seed)
                    tables["CHARTEVENTS"].add_many(chart)
                    tables["LABEVENTS"].add_many(labs)
                    item_counts.update(row[3] for row in chart)
                    item_counts.update(row[2] for row in labs)
            add_artifacts(index, patient, tables["NOTEEVENTS"], rng)
    counts = {f"mimic3/{name}.csv": table.rows for name, table in tables.items()}
    counts.update(write_dictionaries(directory, root / "mimic_extract", item_counts))
    return counts


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
    if (adm.hadm_id * 7919) % 100 >= 3:
        table.add((patient.subject_id, adm.hadm_id, "MS", code, description, None, None))
    if (adm.hadm_id * 104729) % 100 < 60:
        level = 1 + min(3, max(0, int(adm.severity + 1.5)))
        table.add(
            (
                patient.subject_id,
                adm.hadm_id,
                "APR",
                code,
                description.title(),
                level,
                min(4, level + int(adm.died)),
            )
        )


def note_rows(
    patient: Patient, adm: Admission, notes: list[Note], rng: random.Random
) -> list[tuple]:
    """NOTEEVENTS rows; Radiology/ECG/Echo/Discharge have no CGID or STORETIME, as in MIMIC-III."""
    rows = []
    for note in sorted(notes, key=lambda n: n.moment):
        untimed = not note.has_time or (note.category not in ("Radiology",) and rng.random() < 0.01)
        no_store = note.category in ("Radiology", "ECG", "Echo", "Discharge summary")
        storetime = (
            None
            if no_store or untimed
            else ts(note.moment + timedelta(minutes=rng.randrange(2, 90)))
        )
        cgid = None if no_store else rng.randrange(14000, 21600)
        iserror = 1 if rng.random() < 0.003 else None
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
        text = Writer(patient, adm, rng).nursing_other(0)
        duplicate = (
            *ids,
            ts(intime + timedelta(hours=5)),
            None,
            "Nursing/other",
            "Report",
            15002,
            None,
            text,
        )
        table.add_many([duplicate, duplicate])
    if index % 100 == 5:
        wrong = "Note entered on the wrong patient in error."
        table.add(
            (*ids, None, None, "Physician ", "Physician Resident Progress Note", 15003, 1, wrong)
        )


# ============================================================================================
# Hourly signals and labs


# (source, variable, arterial-or-Fahrenheit) -> item
ITEM_BY_KEY = {
    (i.source, i.level2, i.label.startswith(("Arterial", "Temperature F"))): i
    for i in V.CHART_ITEMS
}
FIO2_FRACTION_ITEM = 190  # carevue charts FiO2 as a fraction, metavision as a percentage
SPO2_ITEMS = (646, 220277)


# Hour-0 to hour-48 drift of a stay's vitals: dying patients get worse, survivors recover.
DRIFT = {"heart rate": 10.0, "systolic blood pressure": -12.0}
SURVIVOR_DRIFT = -0.5
CHARTED = (
    "heart rate",
    "systolic blood pressure",
    "diastolic blood pressure",
    "respiratory rate",
    "oxygen saturation",
    "temperature",
    "glascow coma scale total",
    "glucose",
    "fraction inspired oxygen",
)


def signal_means(adm: Admission, patient: Patient) -> dict[str, float]:
    """Stay-level means of every variable (before per-stay noise) given the latents."""
    shifts = dict(adm.dx.signal_shift)
    means = {}
    for var in V.VARIABLES:
        severity = adm.severity
        if var.level2 == "glascow coma scale total":
            severity = max(severity, 0.0)  # mild illness leaves the GCS at 15
        value = var.base + var.per_severity * severity + var.per_reserve * adm.reserve
        if var.level2 == "glascow coma scale total" and adm.intubated:
            value -= 3.0  # sedation
        value = math.exp(value) if var.log_scale else value
        means[var.level2] = value + shifts.get(var.level2, 0.0)
    return means


def baseline_mean(var: V.Variable) -> float:
    return math.exp(var.base) if var.log_scale else var.base


def stay_level(var: V.Variable, mean: float, rng: np.random.Generator) -> float:
    """The stay's own mean: the latent mean plus between-stay spread (log scale for labs)."""
    spread = rng.normal(0, var.between_sd)
    return mean * math.exp(spread) if var.log_scale else mean + spread


def measurements(var: V.Variable, level: float, n: int, rng: np.random.Generator) -> np.ndarray:
    noise = rng.normal(0, var.within_sd, n)
    return level * np.exp(noise) if var.log_scale else level + noise


def stay_signals(
    patient: Patient, adm: Admission, stay: Stay, seed: int
) -> tuple[list[tuple], list[tuple]]:
    """CHARTEVENTS and LABEVENTS rows (without ROW_ID) of one ICU stay."""
    rng = np.random.default_rng([seed, stay.icustay_id])
    means = signal_means(adm, patient)
    if stay is not adm.stays[0]:  # a bounce-back stay is milder than the index stay
        means = {
            name: 0.5 * value + 0.5 * baseline_mean(V.VARIABLE[name])
            for name, value in means.items()
        }
    levels = {name: stay_level(V.VARIABLE[name], mean, rng) for name, mean in means.items()}
    return chart_rows(patient, adm, stay, rng, levels), lab_rows(patient, adm, stay, rng, levels)


def hourly_values(
    adm: Admission, levels: dict[str, float], hours: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Hourly series of every charted variable, kept physiologically consistent."""
    progress = np.linspace(0.0, 1.0, hours)
    direction = 1.0 if adm.died else SURVIVOR_DRIFT
    series = {}
    for name in CHARTED:
        values = measurements(V.VARIABLE[name], levels[name], hours, rng)
        series[name] = values + direction * DRIFT.get(name, 0.0) * progress
    series["diastolic blood pressure"] = np.minimum(
        series["diastolic blood pressure"], series["systolic blood pressure"] - 15
    )
    series["mean blood pressure"] = (
        series["systolic blood pressure"] + 2 * series["diastolic blood pressure"]
    ) / 3 + rng.normal(0, V.MEAN_BP.within_sd, hours)
    series["oxygen saturation"] = np.minimum(series["oxygen saturation"], 100)
    series["glascow coma scale total"] = np.clip(series["glascow coma scale total"], 3, 15)
    series["fraction inspired oxygen"] = np.clip(series["fraction inspired oxygen"], 30, 100)
    return series


def chart_rows(patient, adm, stay, rng, levels: dict[str, float]) -> list[tuple]:
    """Hourly vitals with realistic gaps, °F and °C items, fractions and a few bad values."""
    start = stay.intime.replace(minute=0, second=0) + timedelta(hours=1)
    hours = max(1, min(CHART_HOURS, int((stay.outtime - start).total_seconds() // 3600) + 1))
    series = hourly_values(adm, levels, hours, rng)
    # One charting round per hour: shared CHARTTIME and STORETIME, one nurse per 12 h shift.
    stamps = [ts(start + timedelta(hours=h)) for h in range(hours)]
    stored = [
        ts(start + timedelta(hours=h, minutes=m))
        for h, m in enumerate(rng.integers(1, 40, hours).tolist())
    ]
    nurses = rng.integers(14000, 21600, hours // 12 + 1).tolist()
    status = (
        (0, 0, None, None) if stay.dbsource == "metavision" else (None, None, "Manual", "NotStopd")
    )
    fahrenheit = (rng.random(hours) < 0.7).tolist()
    arterial = adm.intubated or adm.pressors
    observed_bp = rng.random(hours) < V.VARIABLE["systolic blood pressure"].rate
    ids = (patient.subject_id, adm.hadm_id, stay.icustay_id)
    rows: list[tuple] = []
    for name, values in series.items():
        if name == "fraction inspired oxygen" and not adm.intubated:
            continue
        var = V.MEAN_BP if name == "mean blood pressure" else V.VARIABLE[name]
        rate = 0.9 if (name == "glucose" and adm.dx.key == "dka") else var.rate  # hourly sticks
        observed = observed_bp if "blood pressure" in name else rng.random(hours) < rate
        values = values.tolist()
        for hour in np.flatnonzero(observed).tolist():
            in_f = name == "temperature" and fahrenheit[hour]
            item = ITEM_BY_KEY[
                (stay.dbsource, name, arterial if "blood pressure" in name else in_f)
            ]
            value, decimals = values[hour], var.decimals
            if in_f:
                value = value * 9 / 5 + 32
            if item.itemid == FIO2_FRACTION_ITEM:
                value, decimals = value / 100, 2
            text = f"{value:.{decimals}f}"
            rows.append(
                (
                    *ids,
                    item.itemid,
                    stamps[hour],
                    stored[hour],
                    nurses[hour // 12],
                    text,
                    float(text),
                    item.unit or None,
                    *status,
                )
            )
    return corrupt_chart_rows(rows, stay, rng)


def corrupt_chart_rows(rows: list[tuple], stay: Stay, rng: np.random.Generator) -> list[tuple]:
    """A few typos (value x10), SpO2 charted as a fraction, and metavision rows with ERROR=1."""
    picks = rng.random(len(rows))
    for i in np.flatnonzero(picks < 0.004).tolist():
        row = list(rows[i])
        value = row[8] / 100 if row[3] in SPO2_ITEMS else row[8] * 10
        row[7], row[8] = f"{value:g}", value
        if stay.dbsource == "metavision" and picks[i] < 0.0015:
            row[11] = 1  # ERROR
        rows[i] = tuple(row)
    rows.sort(key=lambda r: (r[4], r[3]))
    return rows


def lab_rows(patient, adm, stay, rng: np.random.Generator, levels: dict[str, float]) -> list[tuple]:
    """Blood draws every 4-12 h from just before the ICU stay to the end of the charted window."""
    rows = []
    end = min(stay.outtime, stay.intime + timedelta(hours=CHART_HOURS + 12))
    moment = stay.intime - timedelta(hours=float(rng.uniform(0.5, 5)))
    while moment <= end:
        for item in V.LAB_ITEMS:
            if item.level2 == "lactate" and rng.random() < 0.4:
                continue  # lactate is not part of every panel
            var = V.VARIABLE[item.level2]
            value = max(float(measurements(var, levels[item.level2], 1, rng)[0]), 0.1)
            text = f"{value:.{var.decimals}f}"
            normal_low, normal_high = var.ranges[2] * 0.6, var.ranges[2] * 1.4
            flag = None if normal_low <= float(text) <= normal_high else "abnormal"
            rows.append(
                (
                    patient.subject_id,
                    adm.hadm_id,
                    item.itemid,
                    ts(moment),
                    text,
                    float(text),
                    item.unit,
                    flag,
                )
            )
        moment += timedelta(hours=float(rng.uniform(4, 12)))
    return rows


def write_dictionaries(mimic3: Path, extract: Path, item_counts: Counter) -> dict[str, int]:
    """D_ITEMS, D_LABITEMS and the MIMIC-Extract map and ranges for every item generated."""
    d_items = Table(mimic3 / "D_ITEMS.csv", MIMIC3_COLUMNS["D_ITEMS"])
    for item in V.CHART_ITEMS:
        d_items.add((item.itemid, item.label, item.abbreviation or None, item.source, "chartevents", item.category, item.unit or None, "Numeric", None, None))  # fmt: skip
    d_items.add((226228, "Gender", "Gender", "metavision", "chartevents", "ADT", None, "Text", None, None))  # fmt: skip
    d_labs = Table(mimic3 / "D_LABITEMS.csv", MIMIC3_COLUMNS["D_LABITEMS"])
    for item in V.LAB_ITEMS:
        d_labs.add((item.itemid, item.label, "Blood", item.category, None))
    mapping = Table(extract / "itemid_to_variable_map.csv", EXTRACT_COLUMNS["map"])
    for item in V.CHART_ITEMS + V.LAB_ITEMS:
        level1 = (V.MEAN_BP if item.level2 == V.MEAN_BP.level2 else V.VARIABLE[item.level2]).level1
        linksto = "labevents" if item.source == "labevents" else "chartevents"
        mapping.add((item.level2, level1, None, item.itemid, item.label, item.unit or None, linksto, item_counts[item.itemid], "ready"))  # fmt: skip
    # An unmapped, never-charted item, as the real map has: the LEVEL2/COUNT/STATUS filters drop it.
    mapping.add((None, "Gender", None, 226228, "Gender", None, "chartevents", 0, "unready"))
    ranges = Table(extract / "variable_ranges.csv", EXTRACT_COLUMNS["ranges"])
    for var in (*V.VARIABLES, V.MEAN_BP):
        ranges.add((var.level1, var.level2, *var.ranges))
    return {
        "mimic3/D_ITEMS.csv": d_items.close(),
        "mimic3/D_LABITEMS.csv": d_labs.close(),
        "mimic_extract/itemid_to_variable_map.csv": mapping.close(),
        "mimic_extract/variable_ranges.csv": ranges.close(),
    }


# ============================================================================================
# MIMIC-IV-Note


MIMIC4_NOTE_COLUMNS = ("note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text")  # fmt: skip
MIMIC4_PATIENT_COLUMNS = ("subject_id", "gender", "anchor_age", "anchor_year", "anchor_year_group", "dod")  # fmt: skip


def write_mimic4_notes(directory: Path, n_notes: int, seed: int) -> dict[str, int]:
    """``n_notes`` discharge and ``n_notes`` radiology notes of separate MIMIC-IV-style patients."""
    discharge = Table(directory / "discharge.csv", MIMIC4_NOTE_COLUMNS)
    radiology = Table(directory / "radiology.csv", MIMIC4_NOTE_COLUMNS)
    patients = Table(directory / "patients.csv", MIMIC4_PATIENT_COLUMNS)
    index = 0
    while discharge.rows < n_notes or radiology.rows < n_notes:
        patient = draw_patient(index, seed, source="mimic4")
        rng = patient_rng("mimic4-notes", seed, index)
        index += 1
        if patient.kind == "newborn":
            continue
        write_mimic4_patient(patient, patients, rng)
        for number, adm in enumerate(patient.admissions):
            w = Writer(patient, adm, rng, style="iv")
            hadm_id = 20_000_000 + 4 * patient.index + number
            if discharge.rows < n_notes:
                discharge.add(mimic4_discharge_row(w, hadm_id, number + 1))
            for row in mimic4_radiology_rows(w, hadm_id, number):
                if radiology.rows < n_notes:
                    radiology.add(row)
    return {
        "mimic4_note/discharge.csv": discharge.close(),
        "mimic4_note/radiology.csv": radiology.close(),
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
        w.discharge(),
    )


def mimic4_radiology_rows(w: Writer, hadm_id: int, number: int) -> list[tuple]:
    """The admission's first study, sometimes with a follow-up one."""
    rows = []
    for study_index in range(w.rng.randint(1, 2)):
        moment = w.adm.stays[0].intime + timedelta(hours=w.rng.uniform(-8, 30))
        study, later = w.adm.dx.study, ()
        if study_index > 0:
            study, *findings = V.EARLY_CT.get(w.adm.dx.key) or pick(
                V.RADIOLOGY_LATER_STUDIES, w.rng
            )
            later = tuple(findings)
        seq = 10 * number + study_index + 1
        stored = ts(moment + timedelta(hours=w.rng.uniform(0.5, 6)))
        text = w.radiology(moment, study, later)
        rows.append((f"{w.patient.subject_id}-RR-{seq}", w.patient.subject_id, hadm_id, "RR", seq, ts(moment), stored, text))  # fmt: skip
    return rows


def write_mimic4_patient(patient: Patient, table: Table, rng: random.Random) -> None:
    """MIMIC-IV anchors: an age at a shifted anchor year, and the real 3-year group it maps to."""
    group_start = rng.choice((2008, 2011, 2014, 2017, 2020))
    age = min(91, patient.model_age) if patient.kind == "elderly" else patient.age
    dod = date_only(patient.dod) if patient.dod else None
    anchor_year = patient.admissions[0].admittime.year
    table.add((patient.subject_id, patient.gender, int(age), anchor_year, f"{group_start} - {group_start + 2}", dod))  # fmt: skip


# ============================================================================================
# ClinicalSTS-style pairs from semantic frames


def random_finding_frame(rng: random.Random) -> dict:
    return {
        "kind": "finding",
        "finding": pick(tuple(V.FINDINGS), rng),
        "site": pick(tuple(V.SITES), rng),
        "severity": pick(tuple(V.SEVERITIES), rng),
        "negated": False,
    }


def random_med_frame(rng: random.Random) -> dict:
    return {
        "kind": "med",
        "drug": pick(tuple(V.STS_DRUGS), rng),
        "dose": pick(V.STS_DOSES, rng),
        "route": pick(tuple(V.STS_ROUTES), rng),
        "freq": pick(tuple(V.STS_FREQS), rng),
        "negated": False,
    }


def capitalised_slots(values: dict[str, str]) -> dict[str, str]:
    return {**values, **{k.capitalize(): v[0].upper() + v[1:] for k, v in values.items()}}


def realise_finding(
    frame: dict, rng: random.Random, template_index: int | None, synonym_seed: int | None
) -> str:
    """Words for a finding frame; the same ``synonym_seed`` picks the same synonyms."""
    words = random.Random(synonym_seed) if synonym_seed is not None else rng
    values = {
        "finding": pick(V.FINDINGS[frame["finding"]], words),
        "site": pick(V.SITES[frame["site"]], words),
        "severity": pick(V.SEVERITIES[frame["severity"]], words),
    }
    templates = V.STS_NEG_FINDING_TEMPLATES if frame["negated"] else V.STS_FINDING_TEMPLATES
    template = (
        templates[template_index % len(templates)]
        if template_index is not None
        else pick(templates, rng)
    )
    return template.format(**capitalised_slots(values))


def realise_med(
    frame: dict, rng: random.Random, template_index: int | None, synonym_seed: int | None
) -> str:
    words = random.Random(synonym_seed) if synonym_seed is not None else rng
    values = {
        "drug": pick(V.STS_DRUGS[frame["drug"]], words),
        "dose": frame["dose"],
        "route": pick(V.STS_ROUTES[frame["route"]], words),
        "freq": pick(V.STS_FREQS[frame["freq"]], words),
    }
    templates = V.STS_STOP_MED_TEMPLATES if frame["negated"] else V.STS_MED_TEMPLATES
    template = (
        templates[template_index % len(templates)]
        if template_index is not None
        else pick(templates, rng)
    )
    return template.format(**capitalised_slots(values))


# How much each kind of change costs on the 0-5 scale, and which slots it may touch.
STS_MINOR_SLOTS = {"finding": ("site", "severity"), "med": ("dose", "route", "freq")}
STS_MINOR_COST = {"site": 1.6, "severity": 1.1, "dose": 1.4, "route": 0.9, "freq": 1.0}
STS_RELATIONS = (
    ("paraphrase", 0.22),
    ("minor", 0.28),
    ("two_minor", 0.12),
    ("negation", 0.08),
    ("concept", 0.08),
    ("unrelated", 0.22),
)
STS_BASE_SCORE = {"negation": 1.3, "concept": 0.9, "unrelated": 0.2}
STS_SAME_WORDS = {
    "paraphrase": 0.0,
    "minor": 0.7,
    "two_minor": 0.7,
    "negation": 1.0,
    "concept": 0.6,
}


def sts_pair(rng: random.Random) -> tuple[str, str, float]:
    """Two sentences whose score is a graded function of the meaning slots that differ.

    Word overlap is only loosely tied to the score: paraphrases use other templates and
    synonyms (low overlap, high score), while negation flips and concept swaps keep the wording
    (high overlap, low score).
    """
    kind = "finding" if rng.random() < 0.6 else "med"
    frame = random_finding_frame(rng) if kind == "finding" else random_med_frame(rng)
    realise = realise_finding if kind == "finding" else realise_med
    relation = rng.choices([r for r, _ in STS_RELATIONS], weights=[w for _, w in STS_RELATIONS])[0]
    if relation == "unrelated":
        other = random_med_frame(rng) if kind == "finding" else random_finding_frame(rng)
        first = realise(frame, rng, None, None)
        second = (realise_med if kind == "finding" else realise_finding)(other, rng, None, None)
        return first, second, clip_score(STS_BASE_SCORE[relation] + rng.uniform(-0.2, 0.3))
    other, score = dict(frame), STS_BASE_SCORE.get(relation, 5.0)
    if relation in ("minor", "two_minor"):
        for slot in sample(STS_MINOR_SLOTS[kind], 1 if relation == "minor" else 2, rng):
            other[slot] = changed_value(kind, slot, frame[slot], rng)
            score -= STS_MINOR_COST[slot]
    elif relation == "negation":
        other["negated"] = True
    elif relation == "concept":
        main = "finding" if kind == "finding" else "drug"
        other[main] = changed_value(kind, main, frame[main], rng)
    same_words = rng.random() < STS_SAME_WORDS[relation]
    synonyms = rng.randrange(10**6)
    template = rng.randrange(60)
    first = realise(frame, rng, template, synonyms)
    # Every template list has at least five entries, so an offset of 1-4 changes the template.
    other_template = template if same_words else template + 1 + rng.randrange(4)
    second = realise(other, rng, other_template, synonyms if same_words else synonyms + 1)
    return first, second, clip_score(score + rng.uniform(-0.35, 0.25))


def changed_value(kind: str, slot: str, current: str, rng: random.Random) -> str:
    choices = {
        ("finding", "finding"): V.FINDINGS,
        ("finding", "site"): V.SITES,
        ("finding", "severity"): V.SEVERITIES,
        ("med", "drug"): V.STS_DRUGS,
        ("med", "dose"): V.STS_DOSES,
        ("med", "route"): V.STS_ROUTES,
        ("med", "freq"): V.STS_FREQS,
    }[(kind, slot)]
    return pick(tuple(c for c in choices if c != current), rng)


def clip_score(score: float) -> float:
    return round(min(5.0, max(0.0, score)), 1)


def write_sts(directory: Path, seed: int) -> dict[str, int]:
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, n in STS_SPLITS.items():
        rng = random.Random(f"sts:{seed}:{split}")
        lines = [f"{a}\t{b}\t{score:.1f}" for a, b, score in (sts_pair(rng) for _ in range(n))]
        (directory / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        counts[f"sts/{split}.txt"] = n
    return counts


# ============================================================================================
# NER (i2b2-2010 types) from the note templates

NER_TEMPLATES = (
    *V.HPI_SENTENCES,
    *V.PLAN_SENTENCES,
    *V.COURSE_SENTENCES,
    *V.CONSULT_SENTENCES,
    *V.PHARMACY_SENTENCES,
    *(t for tier in V.CUES for t in tier),
    *(t for cues in V.FLAG_CUES.values() for t in cues),
    *(t for pool in V.NURSING_SYSTEMS.values() for t in pool),
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
            for _ in range(min(6, n - len(blocks))):
                blocks.append("\n".join(f"{token}\t{tag}" for token, tag in ner_sentence(writer)))
        (directory / f"{split}.tsv").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        counts[f"finetune/ner/{split}.tsv"] = n
    return counts


# ============================================================================================
# README


def readme_text(args: dict, counts: dict[str, int]) -> str:
    rows = "\n".join(f"| `{path}` | {n} |" for path, n in sorted(counts.items()))
    return f"""# Synthetic clinical demo data

Everything here is **synthetic**: generated by `clinicalnotebert.demo.generator.generate_demo`
(version {GENERATOR_VERSION}) from the project's own word lists and templates. No real patient,
note or record was used. The tables follow the MIMIC-III / MIMIC-IV-Note layouts so that the
project's readers run on them unchanged, and outcomes (in-hospital death, ICU length of stay,
DRG) are driven by latent per-admission severity that the first day's notes and the hourly
signals both reveal, so the prediction tasks are learnable.

Generator arguments: n_patients={args["n_patients"]}, n_mimic4_notes={args["n_mimic4_notes"]}, seed={args["seed"]}.

| file | rows |
|---|---|
{rows}
"""
