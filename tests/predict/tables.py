"""Small hand-made MIMIC-III tables for the prediction tests (upper-case columns, as the full release)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_tables(directory: Path, **tables: list[dict]) -> Path:
    """Write each ``NAME=[row, ...]`` as ``NAME.csv`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        pd.DataFrame(rows).to_csv(directory / f"{name}.csv", index=False)
    return directory


def patient(subject: int, dob: str) -> dict:
    return {"SUBJECT_ID": subject, "GENDER": "F", "DOB": dob}


def admission(subject: int, hadm: int, admit: str, disch: str, death: str | None = None) -> dict:
    return {
        "SUBJECT_ID": subject,
        "HADM_ID": hadm,
        "ADMITTIME": admit,
        "DISCHTIME": disch,
        "DEATHTIME": death,
        "HOSPITAL_EXPIRE_FLAG": int(death is not None),
    }


def stay(subject: int, hadm: int, icustay: int, intime: str, hours: float) -> dict:
    start = pd.Timestamp(intime)
    return {
        "SUBJECT_ID": subject,
        "HADM_ID": hadm,
        "ICUSTAY_ID": icustay,
        "INTIME": intime,
        "OUTTIME": str(start + pd.Timedelta(hours=hours)),
        "LOS": round(hours / 24, 4),
    }
