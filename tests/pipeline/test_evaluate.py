"""pipeline=evaluate: outside encoders (a fake zoo root of tiny models) scored into one table."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from clinicalnotebert.errors import UserError
from tests.helpers import run_main, save_random_bert

TINY = "jhliu/ClinicalNoteBERT-tiny"
BIO = "emilyalsentzer/Bio_ClinicalBERT"
# Evaluation settings for a test: two seeds and one epoch of prediction on short notes.
FAST = [
    "data=demo",
    "debug=fast",
    "predict.notes.max_length=64",
    "predict.seeds=[1,2]",
    "finetune.max_examples.train=16",
]


def random_model(out: Path, tokenizer_dir: Path, seed: int) -> Path:
    """A random 1-layer BERT with the micro encoder's tokenizer, written as a hub id's copy."""
    import shutil

    import torch

    shutil.copytree(tokenizer_dir, out, ignore=shutil.ignore_patterns("model.safetensors"))
    torch.manual_seed(seed)
    return save_random_bert(out, 256, layers=1, intermediate_size=256)


@pytest.fixture(scope="module")
def zoo_root(tmp_path_factory, micro_encoder) -> Path:
    """Local stand-ins for two zoo entries: the tiny family (a checkpoint per column) and
    Bio_ClinicalBERT (one checkpoint for every column)."""
    root = tmp_path_factory.mktemp("zoo")
    for offset, suffix in enumerate(("", "-simcse_sentence", "-simcse_segment", "-simcse_note")):
        random_model(root / f"{TINY}{suffix}", micro_encoder, offset)
    random_model(root / BIO, micro_encoder, 9)
    return root


def evaluate_args(zoo_root: Path, models: str) -> list[str]:
    return [
        "task=pipeline",
        "pipeline=evaluate",
        f"zoo.root={zoo_root}",
        f"evaluate.models={models}",
    ]


@pytest.mark.slow
def test_two_zoo_models_give_a_two_row_table(zoo_root, tmp_path):
    run_dir = tmp_path / "eval"
    overrides = ",".join(f"'{o}'" for o in FAST)
    result = run_main(
        [
            *evaluate_args(zoo_root, "[ClinicalNoteBERT-tiny,Bio_ClinicalBERT]"),
            *FAST,
            f"pipeline.overrides=[{overrides}]",
        ],
        run_dir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # each model's stages ran in its own folder, with the checkpoint its column names
    sts_args = (run_dir / "ClinicalNoteBERT-tiny" / "sts" / ".hydra" / "overrides.yaml").read_text()
    assert f"{zoo_root / TINY}-simcse_sentence" in sts_args
    rows = list(csv.DictReader((run_dir / "report" / "results.csv").read_text().splitlines()))
    assert sorted(row["model"] for row in rows) == ["Bio_ClinicalBERT", "ClinicalNoteBERT-tiny"]
    for row in rows:
        for column in ("FT", "STS", "RAG", "CP", "Fusion"):
            assert row[column] != "", (row["model"], column)
    bio = next(row for row in rows if row["model"] == "Bio_ClinicalBERT")
    assert bio["baseline"] in ("True", "true", "1")  # the zoo marks it a baseline
    # the closing table is the report's
    assert "| ClinicalNoteBERT-tiny |" in result.stdout


def test_an_unreachable_zoo_entry_fails_before_the_first_stage(zoo_root, tmp_path):
    run_dir = tmp_path / "eval"
    # ClinicalNoteBERT-base has no local copy and the hub is offline in the tests
    result = run_main(
        [*evaluate_args(zoo_root, "[ClinicalNoteBERT-tiny,ClinicalNoteBERT-base]"), *FAST],
        run_dir,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert "ClinicalNoteBERT-base" in errors[0] and "jhliu/ClinicalNoteBERT-base" in errors[0]
    assert not any(p.is_dir() for p in run_dir.iterdir() if not p.name.startswith("."))


def test_one_encoder_with_a_checkpoint_per_column(zoo_root, make_cfg, tmp_path):
    from clinicalnotebert.pipeline.stages import plan

    cfg = make_cfg(
        "task=pipeline",
        "pipeline=evaluate",
        f"encoder.path={zoo_root / TINY}",
        f"evaluate.sts_encoder={zoo_root / TINY}-simcse_sentence",
        "encoder.name=mine",
    )
    stages = {stage.name: stage.args for stage in plan(cfg, tmp_path)}
    assert list(stages) == ["mine/sts", "mine/rag", "mine/cp", "mine/fusion", "mine/ft", "report"]
    assert f"encoder.path={zoo_root / TINY}-simcse_sentence" in stages["mine/sts"]
    assert f"encoder.path={zoo_root / TINY}" in stages["mine/ft"]


def test_evaluated_models_from_zoo_folders_and_dicts(zoo_root, make_cfg):
    from clinicalnotebert.pipeline.evaluated import evaluated_models

    cfg = make_cfg(
        f"zoo.root={zoo_root}",
        "evaluate.models=[ClinicalNoteBERT-note-ntp,/some/folder,{name: x, finetune: /m}]",
    )
    ntp, folder, named = evaluated_models(cfg.evaluate, cfg.zoo)
    # released for fine-tuning only, and not under zoo.root: the hub id stays
    assert ntp.checkpoints == {
        "finetune": "jhliu/ClinicalNoteBERT-base-note_ntp",
        "sts": None,
        "rag": None,
        "predict": None,
    }
    assert folder.name == "folder" and set(folder.checkpoints.values()) == {"/some/folder"}
    assert named.name == "x" and named.checkpoints["finetune"] == "/m"
    assert named.checkpoints["sts"] is None
    with pytest.raises(UserError, match="share a name"):
        evaluated_models(make_cfg("evaluate.models=[/a/m,/b/m]").evaluate, cfg.zoo)


@pytest.mark.slow
def test_a_sweep_over_encoders_is_reported_as_one_table(zoo_root, tmp_path):
    sweep = tmp_path / "sweep"
    result = run_main(
        [
            "-m",
            "task=pipeline",
            "pipeline=evaluate",
            f"encoder.path={zoo_root / BIO},{zoo_root / TINY}",
            "pipeline.run=[sts,report]",
            *FAST,
            f"hydra.sweep.dir={sweep}",
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader((sweep / "report" / "results.csv").read_text().splitlines()))
    assert sorted(row["model"] for row in rows) == ["Bio_ClinicalBERT", "ClinicalNoteBERT-tiny"]
    assert all(row["STS"] != "" for row in rows)
