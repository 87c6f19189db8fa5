"""Cohorts: MIMIC-Extract rules on hand-made and real MIMIC-III demo tables, DRG ranks, files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinicalnotebert.errors import UserError
from clinicalnotebert.predict.cohorts import (
    build_cohort,
    check_cohort,
    drg_ranks,
    load_cohort,
    split_by_patient,
    write_cohort,
)
from tests.predict.tables import admission, patient, stay, write_tables


@pytest.fixture
def rules(make_cfg):
    return make_cfg("task=predict").predict.cohort


def test_mort_los_rules_on_hand_made_tables(tmp_path, rules):
    mimic = write_tables(
        tmp_path / "mimic",
        PATIENTS=[
            patient(1, "2050-06-01"),
            patient(2, "2090-06-01"),  # 10 years old
            patient(3, "2040-01-01"),
            patient(4, "1800-03-01"),  # over 89: DOB shifted ~300 years
            patient(5, "2040-01-01"),
            patient(6, "2040-01-01"),
            patient(7, "2040-01-01"),
        ],
        ADMISSIONS=[
            admission(1, 11, "2100-01-01 08:00", "2100-01-09 08:00", death="2100-01-09 08:00"),
            admission(2, 21, "2100-01-01 08:00", "2100-01-09 08:00"),
            admission(3, 31, "2100-01-01 08:00", "2100-01-05 08:00"),
            admission(3, 32, "2101-01-01 08:00", "2101-01-15 08:00"),
            admission(4, 41, "2100-02-01 08:00", "2100-02-15 08:00"),
            admission(5, 51, "2100-01-01 08:00", "2100-02-01 08:00"),
            admission(6, 61, "2100-01-01 08:00", "2100-01-09 08:00"),
            admission(7, 71, "2100-01-01 08:00", "2100-01-09 08:00"),
        ],
        ICUSTAYS=[
            stay(1, 11, 111, "2100-01-01 10:00", 50),
            stay(1, 11, 112, "2100-01-05 10:00", 80),  # a second stay: not the first
            stay(2, 21, 211, "2100-01-01 10:00", 50),
            stay(3, 31, 311, "2100-01-01 10:00", 20),  # first stay too short: patient left out
            stay(3, 32, 321, "2101-01-01 10:00", 100),
            stay(4, 41, 411, "2100-02-01 10:00", 100),
            stay(5, 51, 511, "2100-01-01 10:00", 300),  # over 240 h
            stay(6, 61, 611, "2100-01-01 10:00", 31.5),  # floor 31 > 24 + 6
            stay(7, 71, 711, "2100-01-01 10:00", 30.5),  # floor 30 is not > 30
        ],
    )
    cohort = build_cohort(mimic, "mort_hosp", rules, window_hours=24).set_index("ICUSTAY_ID")
    assert sorted(cohort.index) == [111, 411, 611]
    assert cohort.loc[111, ["MORT_HOSP", "MORT_ICU", "LOS_3"]].tolist() == [1, 0, 0]
    assert cohort.loc[411, ["MORT_HOSP", "LOS_3", "LOS_7"]].tolist() == [0, 1, 0]
    assert set(cohort["SPLIT"]) <= {"train", "val", "test"}


def test_mortality_from_deathtime_without_the_flag_column(tmp_path, rules):
    rows = [admission(1, 11, "2100-01-01 08:00", "2100-01-09 08:00", death="2100-01-09 08:00")]
    rows.append(admission(2, 21, "2100-01-01 08:00", "2100-01-09 08:00"))
    for row in rows:
        del row["HOSPITAL_EXPIRE_FLAG"]
    mimic = write_tables(
        tmp_path / "mimic",
        PATIENTS=[patient(1, "2050-01-01"), patient(2, "2050-01-01")],
        ADMISSIONS=rows,
        ICUSTAYS=[
            stay(1, 11, 111, "2100-01-01 10:00", 50),
            stay(2, 21, 211, "2100-01-01 10:00", 50),
        ],
    )
    cohort = build_cohort(mimic, "mort_hosp", rules, 24).set_index("ICUSTAY_ID")
    assert cohort["MORT_HOSP"].to_dict() == {111: 1, 211: 0}


def independent_mort_los(demo) -> pd.DataFrame:
    """The MIMIC-Extract cohort computed directly with pandas from the demo CSVs."""
    admissions = pd.read_csv(demo / "ADMISSIONS.csv", parse_dates=["admittime"])
    stays = pd.read_csv(demo / "ICUSTAYS.csv", parse_dates=["intime", "outtime"])
    patients = pd.read_csv(demo / "PATIENTS.csv", parse_dates=["dob"])
    first = stays.sort_values("intime").groupby("subject_id").head(1)
    table = first.merge(admissions, on=["subject_id", "hadm_id"]).merge(patients, on="subject_id")
    age = (table["admittime"] - table["dob"]).dt.days / 365.242
    hours = (table["outtime"] - table["intime"]).dt.total_seconds() / 3600
    keep = (age >= 15) & (hours >= 12) & (hours <= 240) & (np.floor(hours) > 24 + 6)
    return table[keep]


def test_real_mimic3_demo_cohort_matches_the_tables(shared_data, rules):
    demo = shared_data / "mimic3_demo"
    cohort = build_cohort(demo, "mort_hosp", rules, window_hours=24)
    expected = independent_mort_los(demo)
    assert len(cohort) == len(expected) > 40
    assert set(cohort["ICUSTAY_ID"]) == set(expected["icustay_id"])
    assert cohort["MORT_HOSP"].sum() == expected["hospital_expire_flag"].sum()
    assert cohort["LOS_3"].sum() == (expected["los"] > 3).sum()
    assert cohort["SUBJECT_ID"].is_unique
    assert cohort.groupby("SUBJECT_ID")["SPLIT"].nunique().max() == 1
    assert cohort["SPLIT"].value_counts().to_dict() == {"train": 46, "val": 6, "test": 6}


def test_real_demo_has_no_drg_table(shared_data, rules):
    with pytest.raises(UserError, match="no DRGCODES.csv"):
        build_cohort(shared_data / "mimic3_demo", "drg", rules, 24)


def test_drg_rank_is_numeric_order_of_unique_codes():
    assert drg_ranks(pd.Series(["870", "64", "291", "64"])).tolist() == [2, 0, 1, 0]
    assert drg_ranks(pd.Series(["b", "a", "c"])).tolist() == [1, 0, 2]


def test_drg_cohort_first_stay_per_admission_of_the_configured_type(tmp_path, rules):
    mimic = write_tables(
        tmp_path / "mimic",
        PATIENTS=[patient(1, "2050-01-01"), patient(2, "2050-01-01"), patient(3, "2050-01-01")],
        ADMISSIONS=[
            admission(1, 11, "2100-01-01 08:00", "2100-01-09 08:00"),
            admission(1, 12, "2100-03-01 08:00", "2100-03-09 08:00"),
            admission(2, 21, "2100-01-01 08:00", "2100-01-09 08:00"),
            admission(3, 31, "2100-01-01 08:00", "2100-01-09 08:00"),
        ],
        ICUSTAYS=[
            stay(1, 11, 112, "2100-01-03 10:00", 5),
            stay(1, 11, 111, "2100-01-01 10:00", 5),  # earlier: the admission's stay
            stay(1, 12, 121, "2100-03-01 10:00", 30),
            stay(2, 21, 211, "2100-01-01 10:00", 30),
            stay(3, 31, 311, "2100-01-01 10:00", 30),
        ],
        DRGCODES=[
            {"HADM_ID": 11, "DRG_TYPE": "MS", "DRG_CODE": 870},
            {"HADM_ID": 12, "DRG_TYPE": "APR", "DRG_CODE": 720},
            {"HADM_ID": 12, "DRG_TYPE": "MS", "DRG_CODE": 64},
            {"HADM_ID": 21, "DRG_TYPE": "MS", "DRG_CODE": 291},
            {"HADM_ID": 31, "DRG_TYPE": "HCFA", "DRG_CODE": 14},  # not MS: left out
        ],
    )
    cohort = build_cohort(mimic, "drg", rules, 24).set_index("HADM_ID")
    assert cohort["ICUSTAY_ID"].to_dict() == {11: 111, 12: 121, 21: 211}
    assert cohort["DRG"].to_dict() == {11: 2, 12: 0, 21: 1}
    assert cohort.groupby("SUBJECT_ID")["SPLIT"].nunique().max() == 1


def test_split_is_by_patient_deterministic_and_sized():
    cohort = pd.DataFrame({"SUBJECT_ID": np.repeat(np.arange(200), 2)})
    first = split_by_patient(cohort, 0.1, 0.2, seed=7)
    assert first.equals(split_by_patient(cohort, 0.1, 0.2, seed=7))
    assert not first.equals(split_by_patient(cohort, 0.1, 0.2, seed=8))
    per_patient = first.groupby(cohort["SUBJECT_ID"]).agg(["nunique", "first"])
    assert per_patient["nunique"].max() == 1
    assert per_patient["first"].value_counts().to_dict() == {"train": 140, "test": 40, "val": 20}
    with pytest.raises(UserError, match="predict.cohort.split"):
        split_by_patient(cohort, 0.6, 0.5, seed=7)


def reference_like_splits() -> dict[str, pd.DataFrame]:
    def rows(subjects, labels):
        return pd.DataFrame(
            {
                "SUBJECT_ID": subjects,
                "HADM_ID": [s * 10 for s in subjects],
                "ICUSTAY_ID": [s * 100 for s in subjects],
                "MORT_HOSP": labels,
                "LOS_3": labels[::-1],
                "INTIME": ["2100-01-01 10:00:00"] * len(subjects),
            }
        )

    return {
        "train": rows([1, 2, 3, 4], [0, 1, 0, 1]),
        "val": rows([5, 6], [0, 1]),
        "test": rows([7, 8], [1, 0]),
    }


def test_pickle_needs_allow_pickle(tmp_path):
    path = tmp_path / "mort_los.p"
    pd.to_pickle(reference_like_splits(), path)
    with pytest.raises(UserError, match="allow_pickle=true"):
        load_cohort(path, "mort_hosp", allow_pickle=False)
    cohort = load_cohort(path, "mort_hosp", allow_pickle=True)
    assert cohort["SPLIT"].value_counts().to_dict() == {"train": 4, "val": 2, "test": 2}
    assert cohort["INTIME"].dtype.kind == "M"
    check_cohort(cohort, "mort_hosp")


def test_written_cohort_loads_back_and_parquet_works(tmp_path):
    cohort = pd.concat(
        [frame.assign(SPLIT=name) for name, frame in reference_like_splits().items()],
        ignore_index=True,
    )
    write_cohort(cohort, tmp_path / "csv")
    loaded = load_cohort(tmp_path / "csv", "los_3", allow_pickle=False)
    assert loaded["LOS_3"].tolist() == cohort["LOS_3"].tolist()
    assert loaded["SPLIT"].tolist() == cohort["SPLIT"].tolist()
    (tmp_path / "parquet").mkdir()
    for name, frame in reference_like_splits().items():
        frame.to_parquet(tmp_path / "parquet" / f"{name}.parquet")
    assert len(load_cohort(tmp_path / "parquet", "mort_hosp", allow_pickle=False)) == 8


def test_cohort_file_errors_name_the_file_and_column(tmp_path):
    splits = reference_like_splits()
    (tmp_path / "c").mkdir()
    for name, frame in splits.items():
        frame.drop(columns="INTIME" if name == "val" else []).to_csv(
            tmp_path / "c" / f"{name}.csv", index=False
        )
    with pytest.raises(UserError, match=r"val\.csv: missing column 'INTIME'"):
        load_cohort(tmp_path / "c", "mort_hosp", allow_pickle=False)
    with pytest.raises(UserError, match="missing column 'DRG'"):
        load_cohort(tmp_path / "c", "drg", allow_pickle=False)
    (tmp_path / "c" / "val.csv").unlink()
    (tmp_path / "c" / "val.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(UserError, match=r"val\.parquet: cannot read the table"):
        load_cohort(tmp_path / "c", "mort_hosp", allow_pickle=False)


def test_drg_file_with_codes_only_gets_ranks(tmp_path):
    (tmp_path / "c").mkdir()
    for name, frame in reference_like_splits().items():
        frame.assign(DRG_CODE=[870, 64] * (len(frame) // 2)).to_csv(
            tmp_path / "c" / f"{name}.csv", index=False
        )
    cohort = load_cohort(tmp_path / "c", "drg", allow_pickle=False)
    assert cohort["DRG"].tolist() == [1, 0] * 4


def test_check_cohort_rejects_overlap_and_single_class():
    cohort = pd.concat(
        [frame.assign(SPLIT=name) for name, frame in reference_like_splits().items()],
        ignore_index=True,
    )
    check_cohort(cohort, "mort_hosp")
    overlapping = cohort.copy()
    overlapping.loc[overlapping["SPLIT"] == "test", "SUBJECT_ID"] = 1
    with pytest.raises(UserError, match="more than one split"):
        check_cohort(overlapping, "mort_hosp")
    single = cohort.copy()
    single.loc[single["SPLIT"] == "val", "MORT_HOSP"] = 0
    with pytest.raises(UserError, match="split 'val' has only one MORT_HOSP class"):
        check_cohort(single, "mort_hosp")
