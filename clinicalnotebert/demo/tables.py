"""The CSV table writer and the column lists of the MIMIC-III, MIMIC-Extract and MIMIC-IV files."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def ts(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime(TS_FORMAT)


def date_only(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


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
MIMIC4_NOTE_COLUMNS = ("note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text")  # fmt: skip
MIMIC4_PATIENT_COLUMNS = ("subject_id", "gender", "anchor_age", "anchor_year", "anchor_year_group", "dod")  # fmt: skip
