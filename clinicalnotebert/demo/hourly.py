"""Hourly signals: CHARTEVENTS and LABEVENTS rows of each ICU stay, and their dictionaries.

A stay's variables have means set by the admission's latents (so signals predict the outcomes),
a per-stay spread, hourly noise and a drift towards the outcome. The rows carry MIMIC's quirks:
carevue and metavision items, Fahrenheit and Celsius, FiO2 as a fraction or a percentage, gaps,
typos and rows flagged as errors. D_ITEMS, D_LABITEMS and the MIMIC-Extract map and ranges list
every item generated.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from clinicalnotebert.demo.patients import Admission, Patient, Stay
from clinicalnotebert.demo.tables import EXTRACT_COLUMNS, MIMIC3_COLUMNS, Table, ts
from clinicalnotebert.demo.vocabulary import (
    CHART_ITEMS,
    LAB_ITEMS,
    MEAN_BP,
    VARIABLE,
    VARIABLES,
    Variable,
)

CHART_HOURS = 48  # hourly signals cover the first CHART_HOURS of every ICU stay
# (source, variable, arterial-or-Fahrenheit) -> item
ITEM_BY_KEY = {
    (i.source, i.level2, i.label.startswith(("Arterial", "Temperature F"))): i for i in CHART_ITEMS
}
FIO2_FRACTION_ITEM = 190  # carevue charts FiO2 as a fraction, metavision as a percentage
SPO2_ITEMS = (646, 220277)
GENDER_ITEM = 226228  # an unmapped text item, as the real dictionaries have

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
FAHRENHEIT_RATE = 0.7  # hours whose temperature is charted in Fahrenheit
DKA_GLUCOSE_RATE = 0.9  # hourly fingersticks on an insulin drip
TYPO_RATE, ERROR_RATE = 0.004, 0.0015  # chart values x10 (SpO2 as a fraction); metavision ERROR=1
LACTATE_SKIP_RATE = 0.4  # lactate is not part of every panel
METAVISION_STATUS = (0, 0, None, None)  # WARNING, ERROR, RESULTSTATUS, STOPPED
CAREVUE_STATUS = (None, None, "Manual", "NotStopd")


def signal_means(adm: Admission, patient: Patient) -> dict[str, float]:
    """Stay-level means of every variable (before per-stay noise) given the latents."""
    shifts = dict(adm.dx.signal_shift)
    means = {}
    for var in VARIABLES:
        severity = adm.severity
        if var.level2 == "glascow coma scale total":
            severity = max(severity, 0.0)  # mild illness leaves the GCS at 15
        value = var.base + var.per_severity * severity + var.per_reserve * adm.reserve
        if var.level2 == "glascow coma scale total" and adm.intubated:
            value -= 3.0  # sedation
        value = math.exp(value) if var.log_scale else value
        means[var.level2] = value + shifts.get(var.level2, 0.0)
    return means


def baseline_mean(var: Variable) -> float:
    return math.exp(var.base) if var.log_scale else var.base


def stay_level(var: Variable, mean: float, rng: np.random.Generator) -> float:
    """The stay's own mean: the latent mean plus between-stay spread (log scale for labs)."""
    spread = rng.normal(0, var.between_sd)
    return mean * math.exp(spread) if var.log_scale else mean + spread


def measurements(var: Variable, level: float, n: int, rng: np.random.Generator) -> np.ndarray:
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
            name: 0.5 * value + 0.5 * baseline_mean(VARIABLE[name]) for name, value in means.items()
        }
    levels = {name: stay_level(VARIABLE[name], mean, rng) for name, mean in means.items()}
    return chart_rows(patient, adm, stay, rng, levels), lab_rows(patient, adm, stay, rng, levels)


def hourly_values(
    adm: Admission, levels: dict[str, float], hours: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Hourly series of every charted variable, kept physiologically consistent."""
    progress = np.linspace(0.0, 1.0, hours)
    direction = 1.0 if adm.died else SURVIVOR_DRIFT
    series = {}
    for name in CHARTED:
        values = measurements(VARIABLE[name], levels[name], hours, rng)
        series[name] = values + direction * DRIFT.get(name, 0.0) * progress
    series["diastolic blood pressure"] = np.minimum(
        series["diastolic blood pressure"], series["systolic blood pressure"] - 15
    )
    series["mean blood pressure"] = (
        series["systolic blood pressure"] + 2 * series["diastolic blood pressure"]
    ) / 3 + rng.normal(0, MEAN_BP.within_sd, hours)
    series["oxygen saturation"] = np.minimum(series["oxygen saturation"], 100)
    series["glascow coma scale total"] = np.clip(series["glascow coma scale total"], 3, 15)
    series["fraction inspired oxygen"] = np.clip(series["fraction inspired oxygen"], 30, 100)
    return series


@dataclass(frozen=True)
class Round:
    """One hourly charting round: CHARTTIME, STORETIME, the nurse, and whether °F is charted."""

    charttime: str | None
    storetime: str | None
    cgid: int
    fahrenheit: bool


def charting_rounds(start: datetime, hours: int, rng: np.random.Generator) -> list[Round]:
    """One round per hour: shared CHARTTIME and STORETIME, one nurse per 12 h shift."""
    stamps = [ts(start + timedelta(hours=h)) for h in range(hours)]
    stored = [
        ts(start + timedelta(hours=h, minutes=m))
        for h, m in enumerate(rng.integers(1, 40, hours).tolist())
    ]
    nurses = rng.integers(14000, 21600, hours // 12 + 1).tolist()
    fahrenheit = (rng.random(hours) < FAHRENHEIT_RATE).tolist()
    return [Round(stamps[h], stored[h], nurses[h // 12], fahrenheit[h]) for h in range(hours)]


def chart_rows(patient, adm, stay, rng, levels: dict[str, float]) -> list[tuple]:
    """Hourly vitals with realistic gaps, °F and °C items, fractions and a few bad values."""
    start = stay.intime.replace(minute=0, second=0) + timedelta(hours=1)
    hours = max(1, min(CHART_HOURS, int((stay.outtime - start).total_seconds() // 3600) + 1))
    series = hourly_values(adm, levels, hours, rng)
    rounds = charting_rounds(start, hours, rng)
    observed_bp = rng.random(hours) < VARIABLE["systolic blood pressure"].rate
    rows: list[tuple] = []
    for name, values in series.items():
        if name == "fraction inspired oxygen" and not adm.intubated:
            continue
        var = MEAN_BP if name == "mean blood pressure" else VARIABLE[name]
        rate = DKA_GLUCOSE_RATE if (name == "glucose" and adm.dx.key == "dka") else var.rate
        observed = observed_bp if "blood pressure" in name else rng.random(hours) < rate
        values = values.tolist()
        rows += [
            chart_row(patient, adm, stay, var, values[hour], rounds[hour])
            for hour in np.flatnonzero(observed).tolist()
        ]
    return corrupt_chart_rows(rows, stay, rng)


def chart_row(
    patient: Patient, adm: Admission, stay: Stay, var: Variable, value: float, at: Round
) -> tuple:
    """One CHARTEVENTS row, in the item and unit of the stay's database and the round."""
    name = var.level2
    in_f = name == "temperature" and at.fahrenheit
    arterial = adm.intubated or adm.pressors
    item = ITEM_BY_KEY[(stay.dbsource, name, arterial if "blood pressure" in name else in_f)]
    decimals = var.decimals
    if in_f:
        value = value * 9 / 5 + 32
    if item.itemid == FIO2_FRACTION_ITEM:
        value, decimals = value / 100, 2
    text = f"{value:.{decimals}f}"
    status = METAVISION_STATUS if stay.dbsource == "metavision" else CAREVUE_STATUS
    return (
        patient.subject_id, adm.hadm_id, stay.icustay_id, item.itemid, at.charttime, at.storetime,
        at.cgid, text, float(text), item.unit or None, *status,
    )  # fmt: skip


def corrupt_chart_rows(rows: list[tuple], stay: Stay, rng: np.random.Generator) -> list[tuple]:
    """A few typos (value x10), SpO2 charted as a fraction, and metavision rows with ERROR=1."""
    picks = rng.random(len(rows))
    for i in np.flatnonzero(picks < TYPO_RATE).tolist():
        row = list(rows[i])
        value = row[8] / 100 if row[3] in SPO2_ITEMS else row[8] * 10
        row[7], row[8] = f"{value:g}", value
        if stay.dbsource == "metavision" and picks[i] < ERROR_RATE:
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
        for item in LAB_ITEMS:
            if item.level2 == "lactate" and rng.random() < LACTATE_SKIP_RATE:
                continue
            var = VARIABLE[item.level2]
            value = max(float(measurements(var, levels[item.level2], 1, rng)[0]), 0.1)
            text = f"{value:.{var.decimals}f}"
            normal_low, normal_high = var.ranges[2] * 0.6, var.ranges[2] * 1.4
            flag = None if normal_low <= float(text) <= normal_high else "abnormal"
            rows.append(
                (patient.subject_id, adm.hadm_id, item.itemid, ts(moment), text, float(text), item.unit, flag)
            )  # fmt: skip
        moment += timedelta(hours=float(rng.uniform(4, 12)))
    return rows


def write_dictionaries(mimic3: Path, extract: Path, item_counts: Counter) -> dict[str, int]:
    """D_ITEMS, D_LABITEMS and the MIMIC-Extract map and ranges for every item generated."""
    d_items = Table(mimic3 / "D_ITEMS.csv", MIMIC3_COLUMNS["D_ITEMS"])
    for item in CHART_ITEMS:
        d_items.add((item.itemid, item.label, item.abbreviation or None, item.source, "chartevents", item.category, item.unit or None, "Numeric", None, None))  # fmt: skip
    d_items.add((GENDER_ITEM, "Gender", "Gender", "metavision", "chartevents", "ADT", None, "Text", None, None))  # fmt: skip
    d_labs = Table(mimic3 / "D_LABITEMS.csv", MIMIC3_COLUMNS["D_LABITEMS"])
    for item in LAB_ITEMS:
        d_labs.add((item.itemid, item.label, "Blood", item.category, None))
    mapping = Table(extract / "itemid_to_variable_map.csv", EXTRACT_COLUMNS["map"])
    for item in CHART_ITEMS + LAB_ITEMS:
        level1 = (MEAN_BP if item.level2 == MEAN_BP.level2 else VARIABLE[item.level2]).level1
        linksto = "labevents" if item.source == "labevents" else "chartevents"
        mapping.add((item.level2, level1, None, item.itemid, item.label, item.unit or None, linksto, item_counts[item.itemid], "ready"))  # fmt: skip
    # An unmapped, never-charted item, as the real map has: the LEVEL2/COUNT/STATUS filters drop it.
    mapping.add((None, "Gender", None, GENDER_ITEM, "Gender", None, "chartevents", 0, "unready"))
    ranges = Table(extract / "variable_ranges.csv", EXTRACT_COLUMNS["ranges"])
    for var in (*VARIABLES, MEAN_BP):
        ranges.add((var.level1, var.level2, *var.ranges))
    return {
        "mimic3/D_ITEMS.csv": d_items.close(),
        "mimic3/D_LABITEMS.csv": d_labs.close(),
        "mimic_extract/itemid_to_variable_map.csv": mapping.close(),
        "mimic_extract/variable_ranges.csv": ranges.close(),
    }
