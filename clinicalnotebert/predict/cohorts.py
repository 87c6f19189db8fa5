"""Prediction cohorts (docs/reference.md §6.1): built from MIMIC-III tables or loaded from cohort files.

A cohort is one DataFrame, one row per ICU stay, with the reference's upper-case columns
``SUBJECT_ID, HADM_ID, ICUSTAY_ID, INTIME, OUTTIME``, the labels and ``SPLIT`` (train/val/test).

Rules when built from the tables:
- ``mort_los`` (tasks mort_hosp, los_3), MIMIC-Extract's cohort: each patient's first ICU stay
  (first admission with an ICU stay, then first stay by INTIME); age at admission >= ``min_age``;
  ICU stay between ``min_icu_hours`` and ``max_icu_hours``; and, as MIMIC-Extract's benchmark
  (``max_hours > WINDOW_SIZE + GAP_TIME``), longer than the observation window plus a gap, so
  that the outcome is not already in the observed hours. A patient whose first stay fails a rule
  is left out (MIMIC-Extract filters after picking the first stay).
  MORT_HOSP = the admission's HOSPITAL_EXPIRE_FLAG (DEATHTIME within the admission when the flag
  column is absent); MORT_ICU = DEATHTIME within the stay; LOS_3 / LOS_7 = ICU stay > 3 / 7 days.
- ``drg``: the first ICU stay of each admission with a DRG code of the configured types, adults;
  DRG = the rank of the code among the cohort's sorted unique codes (docs/reference.md §6.1).
Splits are by patient, so no patient is in two splits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from clinicalnotebert.corpus.readers import describe_header, find_table, read_csv_batches
from clinicalnotebert.errors import UserError

SPLITS = ("train", "val", "test")
ID_COLUMNS = ("SUBJECT_ID", "HADM_ID", "ICUSTAY_ID")
LABEL_COLUMNS = {"mort_hosp": "MORT_HOSP", "los_3": "LOS_3", "drg": "DRG"}
COHORT_OF_TASK = {"mort_hosp": "mort_los", "los_3": "mort_los", "drg": "drg"}
PICKLE_SUFFIXES = (".p", ".pkl", ".pickle")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")
HOURS_PER_DAY = 24.0


# --------------------------------------------------------------------------------------------
# Reading MIMIC-III tables


def read_table(directory, name: str, wanted: Mapping[str, bool]) -> pd.DataFrame:
    """A whole (small) MIMIC table with lower-case column names; every cell a string."""
    path = find_table(directory, name)
    frames = list(read_csv_batches(path, wanted))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(wanted))
    frame.attrs["path"] = str(path)
    return frame


def to_times(frame: pd.DataFrame, column: str) -> pd.Series:
    """Timestamps of a column (missing or unparseable cells become NaT)."""
    return pd.to_datetime(frame[column], format="ISO8601", errors="coerce")


def to_ids(frame: pd.DataFrame, column: str) -> pd.Series:
    """Integer ids; a non-numeric id is the user's file problem, reported with its name."""
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().any():
        bad = frame[column][values.isna()].iloc[0]
        raise UserError(
            f"{frame.attrs.get('path', 'cohort')}: column '{column}' has a missing or non-numeric id ({bad!r})"
        )
    return values.astype("int64")


def completed_years(start: pd.Series, end: pd.Series) -> pd.Series:
    """Whole years from ``start`` to ``end`` by calendar arithmetic.

    MIMIC-III shifts the birth dates of patients over 89 by about 300 years; a nanosecond
    timedelta of that size overflows, so the age is computed from years, months and days.
    """
    before_birthday = (end.dt.month < start.dt.month) | (
        (end.dt.month == start.dt.month) & (end.dt.day < start.dt.day)
    )
    return end.dt.year - start.dt.year - before_birthday.astype(int)


def icu_stays(mimic3_dir) -> pd.DataFrame:
    """ICUSTAYS joined with ADMISSIONS and PATIENTS: one row per stay with times and ages."""
    stays = read_table(
        mimic3_dir,
        "ICUSTAYS",
        dict.fromkeys(("subject_id", "hadm_id", "icustay_id", "intime", "outtime"), True),
    )
    admissions = read_table(
        mimic3_dir,
        "ADMISSIONS",
        {
            "hadm_id": True,
            "admittime": True,
            "dischtime": True,
            "deathtime": True,
            "hospital_expire_flag": False,
        },
    )
    patients = read_table(mimic3_dir, "PATIENTS", {"subject_id": True, "dob": True})
    out = pd.DataFrame(
        {
            "SUBJECT_ID": to_ids(stays, "subject_id"),
            "HADM_ID": to_ids(stays, "hadm_id"),
            "ICUSTAY_ID": to_ids(stays, "icustay_id"),
            "INTIME": to_times(stays, "intime"),
            "OUTTIME": to_times(stays, "outtime"),
        }
    )
    adm = pd.DataFrame(
        {
            "HADM_ID": to_ids(admissions, "hadm_id"),
            "ADMITTIME": to_times(admissions, "admittime"),
            "DISCHTIME": to_times(admissions, "dischtime"),
            "DEATHTIME": to_times(admissions, "deathtime"),
            "HOSPITAL_EXPIRE_FLAG": (
                pd.to_numeric(admissions["hospital_expire_flag"], errors="coerce")
                if "hospital_expire_flag" in admissions
                else np.nan
            ),
        }
    ).drop_duplicates("HADM_ID")
    births = pd.DataFrame(
        {"SUBJECT_ID": to_ids(patients, "subject_id"), "DOB": to_times(patients, "dob")}
    )
    out = out.merge(adm, on="HADM_ID", how="inner").merge(
        births.drop_duplicates("SUBJECT_ID"), on="SUBJECT_ID", how="inner"
    )
    out["AGE"] = completed_years(out["DOB"], out["ADMITTIME"])
    out["ICU_HOURS"] = (out["OUTTIME"] - out["INTIME"]).dt.total_seconds() / 3600.0
    # Stays without times cannot be placed in a window (a few MIMIC-III stays lack OUTTIME).
    return out.dropna(subset=["INTIME", "OUTTIME", "ADMITTIME", "DOB"]).reset_index(drop=True)


def hours_between(frame: pd.DataFrame, low: float | None, high: float | None) -> pd.Series:
    keep = pd.Series(True, index=frame.index)
    if low is not None:
        keep &= frame["ICU_HOURS"] >= low
    if high is not None:
        keep &= frame["ICU_HOURS"] <= high
    return keep


def within(moment: pd.Series, start: pd.Series, end: pd.Series) -> pd.Series:
    return moment.notna() & (moment >= start) & (moment <= end)


def mort_los_cohort(stays: pd.DataFrame, rules, window_hours: float) -> pd.DataFrame:
    """MIMIC-Extract's cohort and labels (see the module docstring)."""
    first = stays.sort_values(["SUBJECT_ID", "ADMITTIME", "INTIME"]).drop_duplicates("SUBJECT_ID")
    keep = (first["AGE"] >= rules.min_age) & hours_between(
        first, rules.min_icu_hours, rules.max_icu_hours
    )
    keep &= np.floor(first["ICU_HOURS"]) > window_hours + rules.gap_hours
    cohort = first[keep].copy()
    died_in_hospital = within(cohort["DEATHTIME"], cohort["ADMITTIME"], cohort["DISCHTIME"])
    flag = cohort["HOSPITAL_EXPIRE_FLAG"]
    cohort["MORT_HOSP"] = np.where(flag.notna(), flag, died_in_hospital).astype(int)
    cohort["MORT_ICU"] = within(cohort["DEATHTIME"], cohort["INTIME"], cohort["OUTTIME"]).astype(
        int
    )
    days = cohort["ICU_HOURS"] / HOURS_PER_DAY
    cohort["LOS_3"] = (days > 3).astype(int)
    cohort["LOS_7"] = (days > 7).astype(int)
    return cohort[[*ID_COLUMNS, "INTIME", "OUTTIME", "MORT_HOSP", "MORT_ICU", "LOS_3", "LOS_7"]]


def drg_codes(mimic3_dir, types) -> pd.DataFrame:
    """The first DRG code of each admission among the configured DRG types (e.g. MS)."""
    table = read_table(
        mimic3_dir, "DRGCODES", {"hadm_id": True, "drg_type": True, "drg_code": True}
    )
    wanted = {str(t).strip().upper() for t in types}
    table = table[table["drg_type"].fillna("").str.strip().str.upper().isin(wanted)]
    table = table[table["drg_code"].notna()]
    codes = pd.DataFrame(
        {"HADM_ID": to_ids(table, "hadm_id"), "DRG_CODE": table["drg_code"].str.strip()}
    )
    return codes.drop_duplicates("HADM_ID")


def drg_ranks(codes: pd.Series) -> pd.Series:
    """The rank of each code among the sorted unique codes (numerically when all are numbers)."""
    unique = codes.unique()
    numeric = pd.to_numeric(pd.Series(unique), errors="coerce")
    order = unique[np.argsort(numeric.to_numpy())] if numeric.notna().all() else np.sort(unique)
    return codes.map({code: rank for rank, code in enumerate(order)}).astype(int)


def drg_cohort(stays: pd.DataFrame, codes: pd.DataFrame, rules) -> pd.DataFrame:
    first = stays.sort_values(["HADM_ID", "INTIME"]).drop_duplicates("HADM_ID")
    keep = (first["AGE"] >= rules.min_age) & hours_between(
        first, rules.drg_min_icu_hours, rules.drg_max_icu_hours
    )
    cohort = first[keep].merge(codes, on="HADM_ID", how="inner")
    cohort["DRG_CODE"] = cohort["DRG_CODE"].astype(str)
    cohort["DRG"] = drg_ranks(cohort["DRG_CODE"])
    return cohort[[*ID_COLUMNS, "INTIME", "OUTTIME", "DRG_CODE", "DRG"]]


def split_by_patient(cohort: pd.DataFrame, val: float, test: float, seed: int) -> pd.Series:
    """train / val / test per patient: the shuffled patients are cut by the fractions."""
    if not (0 < val < 1 and 0 < test < 1 and val + test < 1):
        raise UserError(
            f"predict.cohort.split: val ({val}) and test ({test}) must be in (0, 1) with val + test < 1"
        )
    subjects = np.sort(cohort["SUBJECT_ID"].unique())
    np.random.default_rng(seed).shuffle(subjects)
    n_test, n_val = round(len(subjects) * test), round(len(subjects) * val)
    names = np.array(
        ["test"] * n_test + ["val"] * n_val + ["train"] * (len(subjects) - n_test - n_val)
    )
    return cohort["SUBJECT_ID"].map(dict(zip(subjects, names, strict=True)))


def build_cohort(mimic3_dir, task: str, rules, window_hours: float) -> pd.DataFrame:
    """The cohort of ``task`` from MIMIC-III tables, split by patient."""
    if mimic3_dir is None:
        raise UserError(
            "predict.mimic3_dir is not set (the MIMIC-III tables, or set predict.cohort.path)"
        )
    stays = icu_stays(mimic3_dir)
    if COHORT_OF_TASK[task] == "drg":
        cohort = drg_cohort(stays, drg_codes(mimic3_dir, rules.drg_types), rules)
    else:
        cohort = mort_los_cohort(stays, rules, window_hours)
    if cohort.empty:
        raise UserError(
            f"{mimic3_dir}: no ICU stay meets the {COHORT_OF_TASK[task]} cohort rules (predict.cohort)"
        )
    cohort = cohort.sort_values(list(ID_COLUMNS)).reset_index(drop=True)
    cohort["SPLIT"] = split_by_patient(cohort, rules.split.val, rules.split.test, rules.split.seed)
    return cohort


# --------------------------------------------------------------------------------------------
# Cohort files: the reference's pickles (dicts of DataFrames), or train/val/test CSV / Parquet


def is_pickle(path: Path) -> bool:
    return path.suffix.lower() in PICKLE_SUFFIXES


def load_pickle_splits(path: Path, allow_pickle: bool) -> dict[str, pd.DataFrame]:
    if not allow_pickle:
        raise UserError(
            f"predict.cohort.path '{path}' is a pickle, and loading a pickle runs code from the file: "
            "set predict.allow_pickle=true if you trust it (or convert it to CSV/Parquet)"
        )
    try:
        splits = pd.read_pickle(path)
    except Exception as exc:  # a pickle can fail in any way; the user needs one line
        raise UserError(f"{path}: cannot load the pickle: {' '.join(str(exc).split())}") from None
    if not isinstance(splits, Mapping) or not all(
        isinstance(splits.get(name), pd.DataFrame) for name in SPLITS
    ):
        raise UserError(f"{path}: expected a dict of DataFrames with keys {', '.join(SPLITS)}")
    return {name: splits[name] for name in SPLITS}


def split_file(directory: Path, name: str) -> Path:
    for path in sorted(directory.iterdir()):
        lowered = path.name.lower()
        if any(lowered == f"{name}{suffix}" for suffix in TABLE_SUFFIXES):
            return path
    raise UserError(
        f"predict.cohort.path '{directory}': no {name}.csv, {name}.csv.gz or {name}.parquet"
    )


def read_table_file(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:  # pandas / pyarrow errors
        raise UserError(f"{path}: cannot read the table ({type(exc).__name__})") from None


def load_table_splits(directory: Path) -> dict[str, pd.DataFrame]:
    splits = {}
    for name in SPLITS:
        path = split_file(directory, name)
        frame = read_table_file(path)
        frame.attrs["path"] = str(path)
        splits[name] = frame
    return splits


def normalise_split(frame: pd.DataFrame, task: str, name: str) -> pd.DataFrame:
    """Upper-case columns, required ones checked, ids as integers, times parsed."""
    source = frame.attrs.get("path", f"cohort split '{name}'")
    frame = frame.rename(columns={c: str(c).upper() for c in frame.columns})
    label = LABEL_COLUMNS[task]
    has_label = label in frame or (task == "drg" and "DRG_CODE" in frame)
    for column in [*ID_COLUMNS, "INTIME"] + ([] if has_label else [label]):
        if column not in frame:
            raise UserError(
                f"{source}: missing column '{column}' ({describe_header(list(map(str, frame.columns)))})"
            )
    frame = frame.copy()
    frame.attrs["path"] = source
    for column in ID_COLUMNS:
        frame[column] = to_ids(frame, column)
    for column in ("INTIME", "OUTTIME"):
        if column in frame:
            frame[column] = to_times(frame, column)
    if frame["INTIME"].isna().any():
        raise UserError(f"{source}: column 'INTIME' has missing or unparseable times")
    frame["SPLIT"] = name
    return frame


def load_cohort(path, task: str, allow_pickle: bool) -> pd.DataFrame:
    """A cohort from the reference's ``mort_los.p`` / ``drg.p`` or a folder of split tables."""
    path = Path(str(path)).expanduser()
    if not path.exists():
        raise UserError(f"predict.cohort.path '{path}' does not exist")
    if is_pickle(path):
        splits = load_pickle_splits(path, allow_pickle)
    elif path.is_dir():
        splits = load_table_splits(path)
    else:
        raise UserError(
            f"predict.cohort.path '{path}': expected a pickle ({', '.join(PICKLE_SUFFIXES)}) "
            "or a folder with train/val/test .csv or .parquet files"
        )
    cohort = pd.concat([normalise_split(splits[n], task, n) for n in SPLITS], ignore_index=True)
    if task == "drg" and "DRG" not in cohort:
        cohort["DRG"] = drg_ranks(cohort["DRG_CODE"].astype(str).str.strip())
    cohort[LABEL_COLUMNS[task]] = pd.to_numeric(cohort[LABEL_COLUMNS[task]], errors="coerce")
    if cohort[LABEL_COLUMNS[task]].isna().any():
        raise UserError(
            f"predict.cohort.path '{path}': column '{LABEL_COLUMNS[task]}' has missing values"
        )
    cohort[LABEL_COLUMNS[task]] = cohort[LABEL_COLUMNS[task]].astype(int)
    return cohort


def add_outtimes(cohort: pd.DataFrame, mimic3_dir) -> pd.DataFrame:
    """OUTTIME from ICUSTAYS for a cohort file without it (the mort_los pickle has none)."""
    if "OUTTIME" in cohort and cohort["OUTTIME"].notna().all():
        return cohort
    stays = read_table(mimic3_dir, "ICUSTAYS", {"icustay_id": True, "outtime": True})
    outtimes = pd.Series(to_times(stays, "outtime").to_numpy(), index=to_ids(stays, "icustay_id"))
    outtimes = outtimes[~outtimes.index.duplicated()]
    cohort = cohort.copy()
    cohort["OUTTIME"] = cohort["ICUSTAY_ID"].map(outtimes)
    missing = cohort["OUTTIME"].isna()
    if missing.any():
        raise UserError(
            f"{stays.attrs['path']}: no OUTTIME for ICU stay {cohort['ICUSTAY_ID'][missing].iloc[0]} of the cohort"
        )
    return cohort


# --------------------------------------------------------------------------------------------
# Checks, summaries and the cohort written into the run dir


def check_cohort(cohort: pd.DataFrame, task: str) -> None:
    """Every split present; no patient in two splits; both classes in every split (binary)."""
    label = LABEL_COLUMNS[task]
    for name in SPLITS:
        rows = cohort[cohort["SPLIT"] == name]
        if rows.empty:
            raise UserError(
                f"cohort: split '{name}' is empty (more data, or larger predict.cohort.split fractions)"
            )
        if task != "drg" and rows[label].nunique() < 2:
            raise UserError(f"cohort: split '{name}' has only one {label} class; AUROC needs both")
    splits_per_subject = cohort.groupby("SUBJECT_ID")["SPLIT"].nunique()
    if (splits_per_subject > 1).any():
        raise UserError(f"cohort: patient {splits_per_subject.idxmax()} is in more than one split")


def summary(cohort: pd.DataFrame, task: str) -> dict:
    label = LABEL_COLUMNS[task]
    sizes = {name: int((cohort["SPLIT"] == name).sum()) for name in SPLITS}
    out = {**sizes, "stays": len(cohort)}
    if task == "drg":
        out["classes"] = int(cohort[label].nunique())
    else:
        out["prevalence"] = {
            name: float(cohort.loc[cohort["SPLIT"] == name, label].mean()) for name in SPLITS
        }
    return out


def fingerprint(cohort: pd.DataFrame) -> str:
    """A digest of the stays and their INTIMEs (keys caches of notes and signals)."""
    columns = (
        cohort[[*ID_COLUMNS, "INTIME", "OUTTIME"]]
        if "OUTTIME" in cohort
        else cohort[[*ID_COLUMNS, "INTIME"]]
    )
    return hashlib.sha256(
        pd.util.hash_pandas_object(columns, index=False).to_numpy().tobytes()
    ).hexdigest()[:16]


def write_cohort(cohort: pd.DataFrame, directory: Path) -> None:
    """``train.csv``, ``val.csv``, ``test.csv``: loadable again with predict.cohort.path."""
    from clinicalnotebert.io import atomic_dir

    with atomic_dir(directory) as tmp:
        for name in SPLITS:
            rows = cohort[cohort["SPLIT"] == name].drop(columns="SPLIT")
            rows.to_csv(tmp / f"{name}.csv", index=False)
