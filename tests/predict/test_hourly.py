"""Hourly signals: MIMIC-Extract's conversions, ranges, hourly grid, imputer and X_mean by hand."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from clinicalnotebert.corpus import readers
from clinicalnotebert.errors import UserError
from clinicalnotebert.predict.hourly import (
    HourlyGrid,
    apply_ranges,
    convert_units,
    empirical_mean,
    events_grid,
    h5_grid,
    impute,
    standardize,
)
from tests.predict.tables import write_tables

NAN = np.nan


def test_unit_conversions_follow_mimic_extract():
    values = pd.Series([98.6, 37.0, 80.0, 50.0, 0.5, 0.95, 97.0, 160.0, 32.0, 70.0])
    level1 = pd.Series(
        ["Temperature", "Temperature", "Temperature", "Fraction inspired oxygen", "Fraction inspired oxygen",
         "Oxygen saturation", "Oxygen saturation", "Weight", "Weight", "Height"]
    )  # fmt: skip
    units = pd.Series(["Deg. F", "?C", None, "%", None, None, "%", "lbs", "oz", "in"])
    converted = convert_units(values, level1, units)
    expected = [37.0, 37.0, (80 - 32) * 5 / 9, 0.5, 0.5, 95.0, 97.0, 160 * 0.45359237,
                32 / 16 * 0.45359237, 70 * 2.54]  # fmt: skip
    np.testing.assert_allclose(converted.to_numpy(), expected)


def test_ranges_drop_outliers_and_clip_to_valid_bounds():
    ranges = pd.DataFrame(
        {"outlier low": [0.0], "valid low": [10.0], "valid high": [300.0], "outlier high": [390.0]},
        index=["heart rate"],
    )
    values = pd.Series([-1.0, 5.0, 80.0, 350.0, 400.0, 7.0])
    names = pd.Series(["heart rate"] * 5 + ["unknown variable"])
    out = apply_ranges(values, names, ranges)
    np.testing.assert_array_equal(out.to_numpy(), [NAN, 10.0, 80.0, 300.0, NAN, 7.0])


def resource_tables(directory):
    write_tables(
        directory,
        itemid_to_variable_map=[
            {"LEVEL2": "heart rate", "LEVEL1": "Heart Rate", "ITEMID": 211, "LINKSTO": "chartevents", "COUNT": 9, "STATUS": "ready"},
            {"LEVEL2": "temperature", "LEVEL1": "Temperature", "ITEMID": 678, "LINKSTO": "chartevents", "COUNT": 9, "STATUS": "ready"},
            {"LEVEL2": "fraction inspired oxygen", "LEVEL1": "Fraction inspired oxygen", "ITEMID": 223835, "LINKSTO": "chartevents", "COUNT": 9, "STATUS": "ready"},
            {"LEVEL2": "glucose", "LEVEL1": "Glucose", "ITEMID": 50931, "LINKSTO": "labevents", "COUNT": 9, "STATUS": "ready"},
            {"LEVEL2": None, "LEVEL1": "Gender", "ITEMID": 226228, "LINKSTO": "chartevents", "COUNT": 0, "STATUS": "unready"},
            {"LEVEL2": "weight", "LEVEL1": "Weight", "ITEMID": 762, "LINKSTO": "chartevents", "COUNT": 5, "STATUS": "unready"},
        ],
        variable_ranges=[
            {"LEVEL1": "Heart Rate", "LEVEL2": "heart rate", "OUTLIER LOW": 0, "VALID LOW": 0, "IMPUTE": 86, "VALID HIGH": 350, "OUTLIER HIGH": 390},
            {"LEVEL1": "Temperature", "LEVEL2": "temperature", "OUTLIER LOW": 14.2, "VALID LOW": 26, "IMPUTE": 37, "VALID HIGH": 45, "OUTLIER HIGH": 47},
            {"LEVEL1": "Fraction inspired oxygen", "LEVEL2": "fraction inspired oxygen", "OUTLIER LOW": 0.2, "VALID LOW": 0.21, "IMPUTE": 0.21, "VALID HIGH": 1, "OUTLIER HIGH": 1.1},
            {"LEVEL1": "Glucose", "LEVEL2": "glucose", "OUTLIER LOW": 0, "VALID LOW": 33, "IMPUTE": 128, "VALID HIGH": 2000, "OUTLIER HIGH": 2200},
        ],
    )  # fmt: skip


def chart(icustay, itemid, time, value, error=0, uom=None):
    return {"ICUSTAY_ID": icustay, "ITEMID": itemid, "CHARTTIME": time, "VALUE": value,
            "VALUENUM": value, "VALUEUOM": uom, "ERROR": error}  # fmt: skip


def lab(time, value):
    return {"HADM_ID": 11, "ITEMID": 50931, "CHARTTIME": time, "VALUE": value, "VALUENUM": value}


@pytest.fixture
def hand_made(tmp_path):
    """One stay (INTIME 2100-01-01 10:00, 50 h) with events inside and outside the rules."""
    mimic, extract = tmp_path / "mimic", tmp_path / "extract"
    resource_tables(extract)
    write_tables(
        mimic,
        CHARTEVENTS=[
            chart(111, 211, "2100-01-01 10:30", 80),
            chart(111, 211, "2100-01-01 10:50", 90),  # hour 0: mean 85, count 2
            chart(111, 211, "2100-01-01 12:10", 400),  # outlier: dropped, not counted
            chart(111, 211, "2100-01-01 13:00", 360),  # clipped to 350
            chart(111, 211, "2100-01-01 09:00", 70),  # before INTIME
            chart(111, 211, "2100-01-01 14:00", 75, error=1),
            chart(111, 211, "2100-01-02 11:00", 75),  # hour 25: past the window
            chart(111, 211, "2100-01-01 15:00", None),  # no VALUENUM
            chart(999, 211, "2100-01-01 11:00", 75),  # another stay
            chart(111, 678, "2100-01-01 11:15", 98.6, uom="Deg. F"),
            chart(111, 223835, "2100-01-01 11:20", 50),
        ],
        LABEVENTS=[
            lab("2100-01-01 15:30", 120),
            lab("2100-01-01 06:00", 100),  # 4 h before INTIME: hour 0
            lab("2100-01-01 02:00", 200),  # 8 h before: too early
            lab("2100-01-01 15:30", 120),  # exact duplicate (in another batch of 3 rows)
            lab("2100-01-01 16:30", 0),  # VALUENUM must be > 0
        ],
    )
    stays = pd.DataFrame(
        {
            "SUBJECT_ID": [1],
            "HADM_ID": [11],
            "ICUSTAY_ID": [111],
            "INTIME": [pd.Timestamp("2100-01-01 10:00")],
            "OUTTIME": [pd.Timestamp("2100-01-03 12:00")],
        }
    )
    return mimic, extract, stays


@pytest.mark.parametrize("rows_per_batch", [2000, 3])
def test_events_grid_by_hand(hand_made, monkeypatch, rows_per_batch):
    # 3 rows per batch: the filters and de-duplication must not depend on how the file is read.
    monkeypatch.setattr(readers, "ROWS_PER_BATCH", rows_per_batch)
    mimic, extract, stays = hand_made
    grid = events_grid(mimic, extract, stays, hours=24, lookback_hours=6)
    assert grid.variables == ["fraction inspired oxygen", "glucose", "heart rate", "temperature"]
    fio2, glucose, hr, temp = range(4)
    assert grid.mean.shape == (1, 24, 4)
    expected_counts = {
        (0, hr): 2,
        (3, hr): 1,
        (1, temp): 1,
        (1, fio2): 1,
        (0, glucose): 1,
        (5, glucose): 1,
    }
    counts = {(h, v): grid.count[0, h, v] for h, v in zip(*np.nonzero(grid.count[0]), strict=True)}
    assert counts == expected_counts
    assert grid.mean[0, 0, hr] == 85 and grid.mean[0, 3, hr] == 350
    assert grid.mean[0, 1, temp] == pytest.approx(37.0)
    assert grid.mean[0, 1, fio2] == pytest.approx(0.5)
    assert grid.mean[0, 0, glucose] == 100 and grid.mean[0, 5, glucose] == 120
    assert np.isnan(grid.mean[0, 2, hr])


def as_mimic_extract_h5(grid: HourlyGrid, stays: pd.DataFrame, path, hours_stored: int) -> None:
    """The grid in all_hourly_data.h5's layout (index ids + hours_in; (LEVEL2, aggregation))."""
    rows = []
    for stay_index, stay in stays.reset_index(drop=True).iterrows():
        for hour in range(hours_stored):
            record = {}
            for v, name in enumerate(grid.variables):
                inside = hour < grid.mean.shape[1]
                record[(name, "mean")] = grid.mean[stay_index, hour, v] if inside else 1.0
                record[(name, "std")] = 0.0
                record[(name, "count")] = grid.count[stay_index, hour, v] if inside else 1.0
            rows.append(((stay["SUBJECT_ID"], stay["HADM_ID"], stay["ICUSTAY_ID"], hour), record))
    index = pd.MultiIndex.from_tuples(
        [r[0] for r in rows], names=["subject_id", "hadm_id", "icustay_id", "hours_in"]
    )
    frame = pd.DataFrame([r[1] for r in rows], index=index)
    frame.columns = pd.MultiIndex.from_tuples(
        frame.columns, names=["LEVEL2", "Aggregation Function"]
    )
    frame.to_hdf(path, key="vitals_labs")


@pytest.mark.filterwarnings("ignore:object name is not a valid Python identifier")
def test_h5_source_gives_the_same_grid(hand_made, tmp_path):
    pytest.importorskip("tables")
    mimic, extract, stays = hand_made
    grid = events_grid(mimic, extract, stays, hours=24, lookback_hours=6)
    other = stays.assign(SUBJECT_ID=2, HADM_ID=21, ICUSTAY_ID=211)
    as_mimic_extract_h5(grid, stays, tmp_path / "all_hourly_data.h5", hours_stored=48)
    from_h5 = h5_grid(tmp_path / "all_hourly_data.h5", pd.concat([stays, other]), hours=24)
    assert from_h5.variables == grid.variables
    np.testing.assert_array_equal(from_h5.count[:1], grid.count)
    np.testing.assert_array_equal(from_h5.mean[:1], grid.mean)
    assert from_h5.count[1].sum() == 0 and np.isnan(from_h5.mean[1]).all()  # not in the file


def test_h5_without_pytables_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tables", None)  # makes `import tables` fail
    with pytest.raises(UserError, match="needs PyTables"):
        h5_grid(tmp_path / "all_hourly_data.h5", pd.DataFrame({"ICUSTAY_ID": [1]}), 24)


def test_missing_map_column_is_a_user_error(hand_made):
    mimic, extract, stays = hand_made
    table = pd.read_csv(extract / "itemid_to_variable_map.csv").drop(columns="LINKSTO")
    table.to_csv(extract / "itemid_to_variable_map.csv", index=False)
    with pytest.raises(UserError, match=r"itemid_to_variable_map.csv: missing column 'linksto'"):
        events_grid(mimic, extract, stays, hours=24, lookback_hours=6)


def test_imputer_by_hand():
    # One stay, 4 hours, two variables: (a) seen at hours 1 and 3, (b) never seen.
    z_mean = np.array([[[NAN, NAN], [1.0, NAN], [NAN, NAN], [3.0, NAN]]])
    count = np.array([[[0, 0], [1, 0], [0, 0], [2, 0]]], dtype=float)
    features = impute(z_mean, count, unmeasured_hours=100)
    assert features.shape == (1, 4, 6)
    a_mask, a_mean, a_since, b_mask, b_mean, b_since = np.moveaxis(features[0], -1, 0)
    np.testing.assert_array_equal(a_mask, [0, 1, 0, 1])
    np.testing.assert_array_equal(a_mean, [2.0, 1.0, 1.0, 3.0])  # stay mean, value, carried, value
    np.testing.assert_array_equal(a_since, [100, 0, 1, 0])
    np.testing.assert_array_equal(b_mask, [0, 0, 0, 0])
    np.testing.assert_array_equal(b_mean, [0, 0, 0, 0])
    np.testing.assert_array_equal(b_since, [100, 100, 100, 100])


def test_standardize_uses_training_stays_only():
    mean = np.array([[[1.0]], [[3.0]], [[100.0]]])  # three stays, one hour, one variable
    grid = HourlyGrid(["x"], mean, np.ones_like(mean))
    z = standardize(grid, train=np.array([True, True, False]))
    spread = np.std([1.0, 3.0], ddof=1)
    np.testing.assert_allclose(z[:, 0, 0], [(1 - 2) / spread, (3 - 2) / spread, (100 - 2) / spread])


def test_x_mean_averages_measured_training_hours():
    features = np.zeros((3, 2, 3), dtype=np.float32)  # 3 stays, 2 hours, 1 variable
    features[0, 0] = [1, 2.0, 0]
    features[1, 0] = [1, 4.0, 0]
    features[1, 1] = [0, 4.0, 1]  # imputed: not counted
    features[2, 0] = [1, 100.0, 0]  # not a training stay
    x_mean = empirical_mean(features, train=np.array([True, True, False]))
    np.testing.assert_array_equal(x_mean, [[[3.0], [0.0]]])
