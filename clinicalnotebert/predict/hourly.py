"""Hourly structured features (docs/reference.md §6.4): MIMIC-Extract's variables over the first hours of a stay.

Two sources give the same raw grid, per stay, hour and variable, of the hourly mean and count:
- MIMIC-III CHARTEVENTS / LABEVENTS with MIMIC-Extract's ``itemid_to_variable_map.csv`` and
  ``variable_ranges.csv`` (the reference's re-implementation of the MIMIC-Extract query); the
  variables are the map's LEVEL2 names, 104 with the real map;
- MIMIC-Extract's ``all_hourly_data.h5`` (key ``vitals_labs``; reading it needs PyTables).
Then, as the reference: the means are z-scored with the training split's statistics; the
simple imputer gives per variable (mask, mean, time_since_measured), variables in sorted order,
so a stay is a ``hours x 3 * n_variables`` matrix; ``X_mean`` is GRU-D's per-hour empirical mean.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clinicalnotebert.cache import entry_dir, file_identity, load_or_build
from clinicalnotebert.config import PredictConfig
from clinicalnotebert.corpus.readers import find_table, read_csv_batches
from clinicalnotebert.errors import UserError
from clinicalnotebert.predict.cohorts import read_table

log = logging.getLogger(__name__)
# CHARTEVENTS has ~330M rows: large chunks keep pandas' per-chunk cost small (memory: ~100 MB).
EVENT_ROWS_PER_BATCH = 200_000

CACHE_VERSION = 1
GRID_FILE = "grid.npz"
H5_KEY = "vitals_labs"
# MIMIC-Extract's unit conversions: (LEVEL1 contains, unit in LEVEL1 or VALUEUOM, value test, how).
UNIT_CONVERSIONS = (
    ("weight", "oz", None, lambda x: x / 16.0 * 0.45359237),
    ("weight", "lbs", None, lambda x: x * 0.45359237),
    ("fraction inspired oxygen", None, lambda x: x > 1, lambda x: x / 100.0),
    ("oxygen saturation", None, lambda x: x <= 1, lambda x: x * 100.0),
    ("temperature", "f", lambda x: x > 79, lambda x: (x - 32) * 5.0 / 9),
    ("height", "in", None, lambda x: x * 2.54),
)


@dataclass
class HourlyGrid:
    """Raw hourly aggregates of each stay: ``mean`` (NaN where unmeasured) and ``count``,
    both ``(stays, hours, variables)``; ``variables`` sorted by name."""

    variables: list[str]
    mean: np.ndarray
    count: np.ndarray


# --------------------------------------------------------------------------------------------
# MIMIC-Extract resources


def variable_map(extract_dir) -> pd.DataFrame:
    """ITEMID -> LEVEL2 / LEVEL1 / LINKSTO rows with a LEVEL2, COUNT > 0 and STATUS 'ready'."""
    wanted = {
        "level2": True,
        "level1": True,
        "itemid": True,
        "linksto": True,
        "count": True,
        "status": True,
    }
    table = read_table(extract_dir, "itemid_to_variable_map", wanted)
    table = table[
        table["level2"].fillna("").str.strip().ne("")
        & (pd.to_numeric(table["count"], errors="coerce") > 0)
        & table["status"].fillna("").str.strip().str.lower().eq("ready")
    ].copy()
    table["itemid"] = pd.to_numeric(table["itemid"], errors="coerce")
    table = table.dropna(subset=["itemid"]).astype({"itemid": "int64"})
    table["linksto"] = table["linksto"].fillna("").str.strip().str.lower()
    return table.drop_duplicates("itemid")[["itemid", "level2", "level1", "linksto"]]


def variable_ranges(extract_dir) -> pd.DataFrame:
    """Outlier and valid bounds by lower-case LEVEL2; as MIMIC-Extract, rows with any missing
    value (IMPUTE included) are dropped, and the first row of a LEVEL2 wins."""
    numbers = ("outlier low", "valid low", "impute", "valid high", "outlier high")
    wanted = {"level2": True, **dict.fromkeys(numbers, True)}
    table = read_table(extract_dir, "variable_ranges", wanted)
    table["level2"] = table["level2"].str.strip().str.lower()
    table = table.drop_duplicates("level2").set_index("level2")[list(numbers)]
    return table.apply(pd.to_numeric, errors="coerce").dropna()


def convert_units(values: pd.Series, level1: pd.Series, units: pd.Series) -> pd.Series:
    """MIMIC-Extract's ``standardize_units``: names and units matched case-insensitively."""
    values = values.copy()
    level1, units = level1.fillna("").str.lower(), units.fillna("").str.lower()
    for name, unit, test, convert in UNIT_CONVERSIONS:
        named = level1.str.contains(name, regex=False)
        needs = pd.Series(False, index=values.index)
        if unit is not None:
            needs |= level1.str.contains(unit, regex=False) | units.str.contains(unit, regex=False)
        if test is not None:
            needs |= test(values)
        rows = named & needs
        values[rows] = convert(values[rows])
    return values


def apply_ranges(values: pd.Series, level2: pd.Series, ranges: pd.DataFrame) -> pd.Series:
    """Outside the outlier bounds -> NaN; between an outlier and a valid bound -> the valid bound."""
    bounds = ranges.reindex(level2.str.lower().to_numpy())
    bounds.index = values.index
    known = bounds["valid low"].notna()
    outlier = known & ((values < bounds["outlier low"]) | (values > bounds["outlier high"]))
    values = values.where(~known, values.clip(bounds["valid low"], bounds["valid high"], axis=0))
    return values.mask(outlier)


# --------------------------------------------------------------------------------------------
# CHARTEVENTS / LABEVENTS


def stay_hours(moments: pd.Series, intimes: pd.Series) -> pd.Series:
    """Whole hours since INTIME, floored, earlier moments at hour 0 (the reference's hours_in)."""
    hours = np.floor((moments - intimes).dt.total_seconds() / 3600.0)
    return hours.clip(lower=0)


def chart_measurements(
    path: Path, stays: pd.DataFrame, items: pd.DataFrame, hours: int
) -> pd.DataFrame:
    """CHARTEVENTS rows of the cohort's stays: ERROR != 1, a VALUENUM, INTIME <= time <= OUTTIME."""
    wanted = {
        "icustay_id": True,
        "itemid": True,
        "charttime": True,
        "value": True,
        "valuenum": True,
        "valueuom": False,
        "error": False,
    }
    by_stay = stays.set_index("ICUSTAY_ID")
    kept = []
    for frame in read_csv_batches(path, wanted, rows_per_batch=EVENT_ROWS_PER_BATCH):
        frame = frame[pd.to_numeric(frame["itemid"], errors="coerce").isin(items.index)]
        stay = pd.to_numeric(frame["icustay_id"], errors="coerce")
        frame = frame[stay.isin(by_stay.index)]
        if "error" in frame:
            frame = frame[pd.to_numeric(frame["error"], errors="coerce").fillna(0) != 1]
        frame = frame[frame["valuenum"].notna()]
        if frame.empty:
            continue
        stay_ids = pd.to_numeric(frame["icustay_id"]).astype("int64")
        kept.append(
            measurement_rows(frame, stay_ids, by_stay, items, lookback_hours=0, hours=hours)
        )
    return pd.concat(kept, ignore_index=True) if kept else empty_measurements()


def lab_measurements(
    path: Path, stays: pd.DataFrame, items: pd.DataFrame, hours: int, lookback_hours: float
) -> pd.DataFrame:
    """LABEVENTS rows of the cohort's admissions: VALUENUM > 0, from INTIME - lookback to OUTTIME,
    duplicates (same stay, item, time, value and unit) dropped across the whole file."""
    wanted = {
        "hadm_id": True,
        "itemid": True,
        "charttime": True,
        "value": True,
        "valuenum": True,
        "valueuom": False,
    }
    stay_of_hadm = stays.drop_duplicates("HADM_ID").set_index("HADM_ID")["ICUSTAY_ID"]
    by_stay = stays.set_index("ICUSTAY_ID")
    kept = []
    for frame in read_csv_batches(path, wanted, rows_per_batch=EVENT_ROWS_PER_BATCH):
        frame = frame[pd.to_numeric(frame["itemid"], errors="coerce").isin(items.index)]
        hadm = pd.to_numeric(frame["hadm_id"], errors="coerce")
        frame = frame[hadm.isin(stay_of_hadm.index)]
        frame = frame[pd.to_numeric(frame["valuenum"], errors="coerce") > 0]
        if frame.empty:
            continue
        stay_ids = pd.to_numeric(frame["hadm_id"]).astype("int64").map(stay_of_hadm)
        kept.append(measurement_rows(frame, stay_ids, by_stay, items, lookback_hours, hours))
    if not kept:
        return empty_measurements()
    rows = pd.concat(kept, ignore_index=True)
    return rows.drop_duplicates(["ICUSTAY_ID", "ITEMID", "CHARTTIME", "VALUE", "UNIT"])


def empty_measurements() -> pd.DataFrame:
    columns = ("ICUSTAY_ID", "ITEMID", "CHARTTIME", "HOUR", "LEVEL2", "LEVEL1", "VALUE", "UNIT")
    return pd.DataFrame({column: [] for column in columns})


def measurement_rows(
    frame, stay_ids, by_stay, items, lookback_hours: float, hours: int
) -> pd.DataFrame:
    """Rows placed in the stay's hours, with their variable, value and unit."""
    moments = pd.to_datetime(frame["charttime"], format="ISO8601", errors="coerce")
    intimes = stay_ids.map(by_stay["INTIME"])
    outtimes = stay_ids.map(by_stay["OUTTIME"])
    inside = (moments + pd.Timedelta(hours=lookback_hours) >= intimes) & (moments <= outtimes)
    hour = stay_hours(moments, intimes)
    inside &= hour < hours
    itemids = pd.to_numeric(frame["itemid"]).astype("int64")
    item = items.loc[itemids]
    out = pd.DataFrame(
        {
            "ICUSTAY_ID": stay_ids.to_numpy(),
            "ITEMID": itemids.to_numpy(),
            "CHARTTIME": moments.to_numpy(),
            "HOUR": hour.to_numpy(),
            "LEVEL2": item["level2"].to_numpy(),
            "LEVEL1": item["level1"].to_numpy(),
            "VALUE": pd.to_numeric(frame["value"], errors="coerce").to_numpy(),
            "UNIT": frame["valueuom"].to_numpy() if "valueuom" in frame else None,
        }
    )
    return out[inside.to_numpy()]


def events_grid(
    mimic3_dir, extract_dir, stays: pd.DataFrame, hours: int, lookback_hours: float
) -> HourlyGrid:
    """The hourly grid from CHARTEVENTS and LABEVENTS (docs/reference.md §6.4, the ``drg`` pipeline)."""
    mapping = variable_map(extract_dir).set_index("itemid")
    ranges = variable_ranges(extract_dir)
    chart_items = mapping[mapping["linksto"] != "labevents"]
    lab_items = mapping[mapping["linksto"] == "labevents"]
    rows = pd.concat(
        [
            chart_measurements(find_table(mimic3_dir, "CHARTEVENTS"), stays, chart_items, hours),
            lab_measurements(
                find_table(mimic3_dir, "LABEVENTS"), stays, lab_items, hours, lookback_hours
            ),
        ],
        ignore_index=True,
    )
    rows["VALUE"] = convert_units(
        rows["VALUE"].astype(float), rows["LEVEL1"].astype(str), rows["UNIT"].astype("string")
    )
    rows["VALUE"] = apply_ranges(rows["VALUE"], rows["LEVEL2"].astype(str), ranges)
    variables = sorted(mapping["level2"].unique())
    return grid_from_rows(rows, stays["ICUSTAY_ID"].to_numpy(), variables, hours)


def grid_from_rows(
    rows: pd.DataFrame, stay_ids: np.ndarray, variables: list[str], hours: int
) -> HourlyGrid:
    """Hourly mean and count (NaN values not counted) of every (stay, hour, variable)."""
    stats = (
        rows.groupby(["ICUSTAY_ID", "HOUR", "LEVEL2"])["VALUE"].agg(["mean", "count"]).reset_index()
    )
    stay_index = pd.Series(np.arange(len(stay_ids)), index=stay_ids)
    var_index = pd.Series(np.arange(len(variables)), index=variables)
    mean, count = empty_grid(len(stay_ids), hours, len(variables))
    at = (
        stay_index.loc[stats["ICUSTAY_ID"]].to_numpy(),
        stats["HOUR"].to_numpy(dtype=np.int64),
        var_index.loc[stats["LEVEL2"]].to_numpy(),
    )
    mean[at] = stats["mean"].to_numpy()
    count[at] = stats["count"].to_numpy()
    return HourlyGrid(variables, mean, count)


# --------------------------------------------------------------------------------------------
# MIMIC-Extract all_hourly_data.h5


def read_h5(path: Path) -> pd.DataFrame:
    try:
        import tables  # noqa: F401  (pandas needs PyTables for HDF5)
    except ImportError:
        raise UserError(
            f"predict.hourly.h5_path '{path}': reading MIMIC-Extract's HDF5 needs PyTables "
            "(pip install tables)"
        ) from None
    if not path.is_file():
        raise UserError(f"predict.hourly.h5_path '{path}' does not exist")
    try:
        return pd.read_hdf(path, H5_KEY)
    except (KeyError, OSError, ValueError) as exc:
        raise UserError(
            f"{path}: cannot read key '{H5_KEY}': {' '.join(str(exc).split())}"
        ) from None


def h5_grid(path, stays: pd.DataFrame, hours: int) -> HourlyGrid:
    """The hourly grid from ``all_hourly_data.h5``: index (subject_id, hadm_id, icustay_id,
    hours_in), columns (LEVEL2, Aggregation Function in mean / std / count)."""
    path = Path(str(path)).expanduser()
    table = read_h5(path)
    names = [str(n).lower() for n in table.index.names]
    if not {"icustay_id", "hours_in"} <= set(names) or table.columns.nlevels != 2:
        raise UserError(
            f"{path}: '{H5_KEY}' needs an index with icustay_id and hours_in "
            "and columns (LEVEL2, Aggregation Function)"
        )
    stay_ids = table.index.get_level_values(names.index("icustay_id")).to_numpy()
    hour = table.index.get_level_values(names.index("hours_in")).to_numpy()
    rows = np.isin(stay_ids, stays["ICUSTAY_ID"].to_numpy()) & (hour < hours)
    aggregation = table.columns.get_level_values(1).astype(str).str.lower()
    if not {"mean", "count"} <= set(aggregation):
        raise UserError(f"{path}: '{H5_KEY}' has no 'mean' and 'count' aggregation columns")
    means, counts = (
        table.loc[rows, aggregation == name].droplevel(1, axis=1) for name in ("mean", "count")
    )
    variables = sorted(map(str, means.columns))
    means.columns, counts.columns = means.columns.astype(str), counts.columns.astype(str)
    stay_index = pd.Series(np.arange(len(stays)), index=stays["ICUSTAY_ID"].to_numpy())
    grid = HourlyGrid(variables, *empty_grid(len(stays), hours, len(variables)))
    at = (stay_index.loc[stay_ids[rows]].to_numpy(), hour[rows].astype(np.int64))
    grid.mean[at] = means[variables].to_numpy(dtype=np.float64)
    grid.count[at] = counts[variables].fillna(0).to_numpy(dtype=np.float64)
    return grid


def empty_grid(n_stays: int, hours: int, n_vars: int) -> tuple[np.ndarray, np.ndarray]:
    mean = np.full((n_stays, hours, n_vars), np.nan, dtype=np.float64)
    return mean, np.zeros_like(mean)


# --------------------------------------------------------------------------------------------
# Standardising and imputing (the reference's post-processing)


def standardize(grid: HourlyGrid, train: np.ndarray) -> np.ndarray:
    """Hourly means z-scored with the training stays' mean and (ddof 1) standard deviation.

    A variable with no spread in training is only centred (the reference would divide by 0).
    """
    values = grid.mean[train].reshape(-1, len(grid.variables))
    with quiet_empty_slices():
        centre = np.nanmean(values, axis=0)
        spread = np.nanstd(values, axis=0, ddof=1)
    spread = np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)
    return (grid.mean - centre) / spread


def impute(z_mean: np.ndarray, count: np.ndarray, unmeasured_hours: float) -> np.ndarray:
    """The simple imputer: per stay and variable, (mask, mean, time_since_measured) per hour.

    mean: forward-filled, then the stay's own mean, then 0; mask: count > 0;
    time_since_measured: hours since the last measurement (0 when measured), ``unmeasured_hours``
    before the first one. Output ``(stays, hours, 3 * variables)``, variable-major.
    """
    observed = count > 0
    n_stays, hours, n_vars = z_mean.shape
    steps = np.arange(hours)[None, :, None]
    last_seen = np.maximum.accumulate(np.where(observed, steps, -1), axis=1)
    filled = np.take_along_axis(z_mean, np.maximum(last_seen, 0), axis=1)
    filled = np.where(last_seen >= 0, filled, np.nan)
    with quiet_empty_slices():
        stay_mean = np.nanmean(np.where(observed, z_mean, np.nan), axis=1, keepdims=True)
    filled = np.where(np.isnan(filled), np.broadcast_to(stay_mean, filled.shape), filled)
    filled = np.nan_to_num(filled, nan=0.0)
    since = np.where(last_seen >= 0, steps - last_seen, unmeasured_hours)
    features = np.stack([observed.astype(np.float64), filled, since.astype(np.float64)], axis=-1)
    return features.reshape(n_stays, hours, 3 * n_vars).astype(np.float32)


def empirical_mean(features: np.ndarray, train: np.ndarray) -> np.ndarray:
    """GRU-D's ``X_mean``: per hour and variable, the mean standardised value over training stays
    where measured, 0 where never measured; shape ``(1, hours, variables)``."""
    mask, values = features[train][..., 0::3], features[train][..., 1::3]
    total = (mask * values).sum(axis=0)
    seen = mask.sum(axis=0)
    return np.where(seen > 0, total / np.maximum(seen, 1), 0.0)[None].astype(np.float32)


@contextmanager
def quiet_empty_slices():
    """NaN-aware means of an all-NaN slice are NaN, handled by the caller: no warning needed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# --------------------------------------------------------------------------------------------
# Cached grid of a cohort


def source_files(predict: PredictConfig) -> list[Path]:
    """The files the grid is computed from (their identities key the cache)."""
    hourly = predict.hourly
    if hourly.h5_path:
        path = Path(str(hourly.h5_path)).expanduser()
        if not path.is_file():
            raise UserError(f"predict.hourly.h5_path '{path}' does not exist")
        return [path]
    if hourly.extract_dir is None:
        raise UserError(
            "predict.hourly.extract_dir is not set (MIMIC-Extract's itemid_to_variable_map.csv "
            "and variable_ranges.csv), nor predict.hourly.h5_path"
        )
    return [find_table(predict.mimic3_dir, name) for name in ("CHARTEVENTS", "LABEVENTS")] + [
        find_table(hourly.extract_dir, name)
        for name in ("itemid_to_variable_map", "variable_ranges")
    ]


def load_grid(directory: Path) -> HourlyGrid:
    with np.load(directory / GRID_FILE) as arrays:
        return HourlyGrid([str(v) for v in arrays["variables"]], arrays["mean"], arrays["count"])


def grid_for_cohort(
    predict: PredictConfig, cache_dir, cohort: pd.DataFrame, cohort_key: str
) -> HourlyGrid:
    """The cohort's raw hourly grid, from the cache or computed now."""
    hourly = predict.hourly
    hours = int(predict.window_hours)
    parts = {
        "version": CACHE_VERSION,
        "cohort": cohort_key,
        "hours": hours,
        "lab_lookback_hours": hourly.lab_lookback_hours,
        "sources": [file_identity(path) for path in source_files(predict)],
    }

    def build(out: Path) -> None:
        if hourly.h5_path:
            grid = h5_grid(hourly.h5_path, cohort, hours)
        else:
            grid = events_grid(
                predict.mimic3_dir, hourly.extract_dir, cohort, hours, hourly.lab_lookback_hours
            )
        variables = np.array(grid.variables)
        np.savez(out / GRID_FILE, variables=variables, mean=grid.mean, count=grid.count)

    directory = entry_dir(Path(str(cache_dir)) / "predict", "hourly", parts)
    return load_or_build(directory, parts, build, load_grid, hourly.cache)[0]
