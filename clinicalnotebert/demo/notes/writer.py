"""The core note writer: template slots bound to one patient and admission, one random stream.

Also the severity cues every first-day note carries (the learnable signal of the notes), the
de-identification placeholders, and the note record itself.
"""

from __future__ import annotations

import random
from collections import ChainMap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clinicalnotebert.demo.hourly import signal_means
from clinicalnotebert.demo.notes.shared import SharedText
from clinicalnotebert.demo.patients import Admission, Patient
from clinicalnotebert.demo.templates import pick, render, sample
from clinicalnotebert.demo.vocabulary import WORDS

NOTE_TIER_NOISE = 0.55  # per-note noise on the severity tier a note's cues are drawn from
TERMINAL_CUE_RATE = 0.4  # chance that a first-day note of a dying patient hints at it
FLAG_CUE_RATE = 0.7  # chance that a note mentions intubation or pressors when the stay has them
CODE_STATUS_CUE_RATE = 0.35

SHARED_SLOTS: dict[str, Any] = {
    **WORDS.tier_slots,
    **WORDS.exam_slots,
    **WORDS.plan_slots,
    **WORDS.nursing_slots,
    **WORDS.resp_slots,
    **WORDS.pharmacy_slots,
    **WORDS.radiology_slots,
    **WORDS.neonatal_slots,
    "neg_symptom": WORDS.neg_symptoms,
    "arrival_state": WORDS.arrival_states,
    "dispo_rec": WORDS.dispo_recs,
    **WORDS.common_slots,
}


@dataclass
class Note:
    category: str
    description: str
    moment: datetime
    text: str
    has_time: bool = True


def clock(moment: datetime) -> str:
    """MIMIC note clock style, e.g. ``8:14 PM``."""
    return moment.strftime("%I:%M %p").lstrip("0")


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
        return self.placeholder(WORDS.name_tags, 9999)

    def tag(self) -> str:
        return self.placeholder(WORDS.other_tags, 999)

    def placeholder(self, kinds: Sequence[str], numbers: int) -> str:
        if self.style == "iv":
            return "___"
        return f"[**{pick(kinds, self.rng)} {self.rng.randrange(1, numbers)}**]"

    def age_over_89(self) -> str:
        return "___" if self.style == "iv" else "[**Age over 90 **]"


class Writer:
    """Renders text for one admission: slots bound to the patient, one random stream."""

    def __init__(
        self,
        patient: Patient,
        adm: Admission,
        rng: random.Random,
        style: str = "iii",
        shared: SharedText | None = None,
    ):
        self.patient, self.adm, self.rng = patient, adm, rng
        self.shared = shared  # the cross-patient paragraphs it may quote (notes/shared.py)
        self.deid = Deid(style, rng)
        self.style = style
        self.slots = ChainMap(patient_slots(self), SHARED_SLOTS)

    def say(self, template: str) -> str:
        return render(template, self.slots, self.rng, self.patient.male)[0]

    def says(self, pool: Sequence[str], k: int) -> list[str]:
        return [self.say(t) for t in sample(pool, k, self.rng)]

    def say_one(self, pool: Sequence[str]) -> str:
        return self.say(pick(pool, self.rng))

    def say_each(self, pool: Sequence[str]) -> list[str]:
        return [self.say(t) for t in pool]

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
        found = self.says(WORDS.cues[self.tier(day)], k)
        if adm.intubated and self.chance(FLAG_CUE_RATE):
            found.append(self.say_one(WORDS.flag_cues["intubated"]))
        if adm.pressors and self.chance(FLAG_CUE_RATE):
            found.append(self.say_one(WORDS.flag_cues["pressors"]))
        if self.chance(CODE_STATUS_CUE_RATE):
            found.append(self.say_one(WORDS.flag_cues["dnr" if adm.dnr else "full_code"]))
        if adm.died and self.chance(TERMINAL_CUE_RATE + 0.15 * day):
            found.append(self.say_one(WORDS.terminal_cues))
        self.rng.shuffle(found)
        return found

    def hpi(self, low: int, high: int) -> str:
        opening = self.say_one(WORDS.hpi_openings)
        return " ".join([opening, *self.says(WORDS.hpi_sentences, self.rng.randint(low, high))])

    def dx_label(self) -> str:
        name = pick(self.adm.dx.names, self.rng)
        return name[0].upper() + name[1:]

    def short_note(self, pool: Sequence[str], k: tuple[int, int], heading: str = "") -> str:
        body = "\n".join(self.says(pool, self.rng.randint(*k)))
        return f"{heading}\n{body}" if heading else body


def patient_slots(w: Writer) -> dict[str, Any]:
    """Slots fixed for the admission: who the patient is, the diagnosis' words, the vitals."""
    patient, adm, dx, rng = w.patient, w.adm, w.adm.dx, w.rng
    means = signal_means(adm, patient)
    return {
        "who": who(w),
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
        "temp_f": f"{means['temperature'] * 9 / 5 + 32 + rng.uniform(0, 1.2):.1f}",
        "hr": str(round(means["heart rate"] + rng.uniform(0, 10))),
        "sbp": str(round(means["systolic blood pressure"] - rng.uniform(0, 10))),
        "dbp": str(round(means["diastolic blood pressure"] - rng.uniform(0, 6))),
        "rr": str(round(means["respiratory rate"] + rng.uniform(0, 3))),
        "spo2": str(min(100, round(means["oxygen saturation"]))),
        "wbc": f"{means['white blood cell count']:.1f}",
        "creat": f"{means['creatinine']:.1f}",
        "lactate": f"{means['lactate']:.1f}",
        "weight": str(rng.randrange(48, 120)),
    }


def who(w: Writer) -> tuple[str, ...]:
    """Ways a note names the patient: '72 year old woman', '72 y/o F', a newborn's day of life."""
    patient = w.patient
    noun = "man" if patient.male else "woman"
    if patient.kind == "newborn":
        sex = "boy" if patient.male else "girl"
        return (f"day of life 1 ex-{w.rng.randrange(28, 36)} week infant {sex}",)
    age = w.deid.age_over_89() if patient.kind == "elderly" else str(patient.age)
    letter = patient.gender
    return (
        f"{age} year old {noun}",
        f"{age} y/o {letter}",
        f"{age} yo {noun}",
        f"{age}{letter}",
    )


def home_med_list(w: Writer) -> str:
    meds = w.patient.home_meds
    return "\n".join(f"{i}. {name} {sig}" for i, (name, sig) in enumerate(meds, 1)) or "None"
