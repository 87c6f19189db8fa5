"""The demo's word lists, templates and tables, loaded from ``vocab/*.yaml``.

The top-level keys of all the files form one namespace, :data:`WORDS` (``WORDS.hpi_sentences``).
Lists load as tuples, since the generator treats its pools as immutable and concatenates them.
The typed tables (diagnoses, allied notes, chart and lab items, hourly variables) become the
small frozen dataclasses below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

VOCAB_DIR = Path(__file__).with_name("vocab")


def frozen(value: Any) -> Any:
    """Lists become tuples, recursively; mappings keep their order."""
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: frozen(item) for key, item in value.items()}
    return value


def load_words(directory: Path = VOCAB_DIR) -> SimpleNamespace:
    """Every top-level key of every ``*.yaml`` in ``directory``; a key may appear only once."""
    words: dict[str, Any] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        clash = words.keys() & data.keys()
        if clash:
            raise ValueError(f"{path.name} repeats vocabulary keys {sorted(clash)}")
        words.update((key, frozen(value)) for key, value in data.items())
    return SimpleNamespace(**words)


WORDS = load_words()


@dataclass(frozen=True)
class Diagnosis:
    """A primary diagnosis (fields explained in ``vocab/diagnoses.yaml``)."""

    key: str
    weight: float
    severity_shift: float
    los_shift: float
    vent_shift: float
    pressor_shift: float
    unit: str
    service: str
    admit_dx: tuple[str, ...]
    names: tuple[str, ...]
    complaints: tuple[str, ...]
    findings: tuple[str, ...]
    tests: tuple[str, ...]
    treatments: tuple[str, ...]
    study: str
    impressions: tuple[str, ...]
    drg_major: tuple[int, str]
    drg_minor: tuple[int, str]
    signal_shift: tuple[tuple[str, float], ...] = ()  # variable -> shift of the stay mean

    @classmethod
    def from_data(cls, fields: dict[str, Any]) -> Diagnosis:
        return cls(**{**fields, "signal_shift": tuple(fields["signal_shift"].items())})


@dataclass(frozen=True)
class AlliedNote:
    """A short note by another discipline: its sentences, and how often each outcome gets one."""

    category: str
    description: str
    heading: str
    sentences: tuple[str, ...]
    sentence_range: tuple[int, int]
    rate_if_survives: float
    rate_if_dies: float


@dataclass(frozen=True)
class Item:
    """A charted or lab item (MIMIC-style ITEMID) and the variable it measures."""

    itemid: int
    label: str
    level2: str
    unit: str
    source: str  # carevue, metavision or labevents
    abbreviation: str = ""
    category: str = "Routine Vital Signs"


@dataclass(frozen=True)
class Variable:
    """One signal: its stay-mean model, spread, rounding, sampling rate and valid ranges."""

    level2: str
    level1: str
    base: float
    per_severity: float
    per_reserve: float
    between_sd: float  # spread of stay means
    within_sd: float  # hour-to-hour spread
    decimals: int
    rate: float  # chance of a measurement each hour (chart) or draw interval in hours (labs)
    # outlier low, valid low, impute, valid high, outlier high
    ranges: tuple[float, float, float, float, float]
    log_scale: bool = False


DIAGNOSES = tuple(Diagnosis.from_data(fields) for fields in WORDS.diagnoses)
NEWBORN = Diagnosis.from_data(WORDS.newborn)
ALLIED_NOTES = tuple(
    AlliedNote(**{**fields, "sentences": getattr(WORDS, fields["sentences"])})
    for fields in WORDS.allied_notes
)
CHART_ITEMS = tuple(Item(*row) for row in WORDS.chart_items)
LAB_ITEMS = tuple(Item(*row) for row in WORDS.lab_items)
VARIABLES = tuple(Variable(*row) for row in WORDS.variables)
VARIABLE = {variable.level2: variable for variable in VARIABLES}
MEAN_BP = Variable(*WORDS.mean_bp)  # derived from systolic and diastolic, like a monitor does
