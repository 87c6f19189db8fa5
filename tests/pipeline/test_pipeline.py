"""task=pipeline: stage wiring, experiment configs, failures, resume, multirun into a report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clinicalnotebert.__main__ import execute
from clinicalnotebert.config import CONF_DIR
from clinicalnotebert.errors import UserError
from clinicalnotebert.pipeline.task import stage_args
from tests.helpers import REPO, compose, last_json_line

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
PAPER = [e for e in EXPERIMENTS if e.startswith("paper_")]
# What a run of a paper experiment needs here instead of MIMIC and the hub (tests only).
OFFLINE = ["data=demo", "tokenizer.path=null", "model.init_from=null", "rag.lm=demo", "debug=fast"]


def test_experiments_are_the_documented_ones():
    assert EXPERIMENTS == [
        "demo",
        "paper_base",
        "paper_note_ntp",
        "paper_note_only",
        "paper_small",
        "paper_tiny",
    ]


def test_stage_references_resolve_to_run_dirs(tmp_path):
    cfg = compose(["task=pipeline", "experiment=demo"], tmp_path)
    stages = stage_args(cfg, tmp_path)
    assert stages["pretrain"] == ["task=pretrain", f"corpus.path={tmp_path / 'prepare'}/corpus"]
    assert stages["report"] == ["task=report", f"report.runs=[{tmp_path}]"]
    assert list(stages)[0] == "tokenizer" and list(stages)[-1] == "report"
    with pytest.raises(UserError, match="unknown stages"):
        stage_args(compose(["task=pipeline", "pipeline.run=[nope]"], tmp_path), tmp_path)
    bad = compose(
        ["task=pipeline", "pipeline.run=[sts]", "pipeline.stages.sts=['task=sts','{nope}']"],
        tmp_path,
    )
    with pytest.raises(UserError, match="unknown stage reference"):
        stage_args(bad, tmp_path)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_stage_of_every_experiment_composes(experiment, run_in_process):
    """A dry run composes each stage's full config, the experiment's overrides included."""
    metrics = run_in_process(
        "task=pipeline",
        f"experiment={experiment}",
        "pipeline.dry_run=true",
        f"pipeline.overrides=['experiment={experiment}']",
    )
    expected = 13 if experiment == "demo" else (19 if "note" in experiment else 21)
    # without data.finetune_dir, the paper's five fine-tuning stages have no data path
    unset = 0 if experiment == "demo" else 5
    assert metrics == {"stages": expected, "dry_run": 1, "unset_paths": unset}


def test_a_paper_pipeline_with_unset_data_paths_stops_before_any_stage(run_in_process, tmp_path):
    with pytest.raises(UserError, match=r"ft_mednli: finetune.path=None/mednli"):
        run_in_process("task=pipeline", "experiment=paper_tiny", output_dir=tmp_path / "run")
    assert not (tmp_path / "run" / "tokenizer").exists()
    assert not (tmp_path / "run" / "prepare").exists()


def test_a_bad_stage_override_fails_the_dry_run(run_in_process):
    with pytest.raises(UserError, match="pipeline stage 'sts'.*nope"):
        run_in_process(
            "task=pipeline",
            "pipeline.dry_run=true",
            "pipeline.run=[sts]",
            "pipeline.stages.sts=['task=sts','nope=1']",
        )


@pytest.mark.parametrize("experiment", PAPER)
def test_paper_pretraining_chain_runs_on_fast_settings(experiment, demo_corpus, tmp_path):
    """Each paper recipe's pretraining stages (curriculum or note only, objective, initialisation)
    run for a few steps on the demo corpus, chained through model.init_from as in the pipeline.
    base and small run at micro size here (a base step on 512 tokens takes ~10 s on this CPU);
    tests/pretrain/test_sizes.py checks their sizes against the paper's parameter counts."""
    cfg = compose(["task=pipeline", f"experiment={experiment}", "debug=fast"], tmp_path)
    size = [] if cfg.model.size == "tiny" else ["model=micro"]
    names = [n for n in (cfg.pipeline.run or cfg.pipeline.stages) if n.startswith("pretrain")]
    stages = stage_args(cfg, tmp_path)
    for name in names:
        args = [a for a in stages[name] if not a.startswith("corpus.path=")]
        overrides = [
            f"experiment={experiment}",
            *OFFLINE,
            *size,
            *args,
            f"corpus.path={demo_corpus}",
        ]
        metrics = execute(compose(overrides, tmp_path / name))
        assert metrics["steps"] == 2, (experiment, name)
        assert (tmp_path / name / "model" / "config.json").is_file()
    exported = json.loads((tmp_path / names[-1] / "model" / "config.json").read_text())
    expected = compose([f"experiment={experiment}", *size], tmp_path).model
    assert exported["num_hidden_layers"] == expected.num_hidden_layers
    assert exported["hidden_size"] == expected.hidden_size


def test_a_failed_stage_stops_the_chain_and_keeps_what_finished(run_in_process, tmp_path):
    out = tmp_path / "pipe"
    with pytest.raises(UserError, match=r"pipeline stage 'sts' failed: encoder.path '/nonexistent"):
        run_in_process(
            "task=pipeline",
            "pipeline.run=[tokenizer,sts,report]",
            "pipeline.stages.sts=['task=sts','encoder.path=/nonexistent/model']",
            "pipeline.overrides=['tokenizer.vocab_size=512']",
            output_dir=out,
        )
    assert (out / "tokenizer" / "metrics.json").is_file()
    assert not (out / "sts" / "metrics.json").exists() and not (out / "report").exists()


def pipeline_command(run_dir: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "clinicalnotebert",
        "task=pipeline",
        *args,
        f"hydra.run.dir={run_dir}",
    ]


@pytest.mark.slow
def test_demo_pipeline_killed_mid_stage_resumes_and_completes(tmp_path):
    """experiment=demo end to end (what `make demo` runs), killed during a SimCSE stage and rerun:
    finished stages are skipped, the rest completes, the report has every column."""
    run_dir = tmp_path / "demo"
    command = pipeline_command(run_dir, "experiment=demo")
    first = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    marker = run_dir / "simcse_segment" / "stage.json"
    deadline = time.monotonic() + 900
    while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert first.poll() is None, "the pipeline ended before the stage to kill"
    time.sleep(3)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert not (run_dir / "simcse_segment" / "metrics.json").exists()

    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert second.returncode == 0, second.stderr[-3000:]
    metrics = last_json_line(second.stdout)
    for stage in ("tokenizer", "prepare", "pretrain", "simcse_sentence"):
        assert metrics[f"skipped.{stage}"] == 1
    assert "skipped.simcse_segment" not in metrics and metrics["seconds.simcse_segment"] > 0
    assert metrics["rag.patients.overlap"] == 0
    table = {k.split(".", 3)[-1]: v for k, v in metrics.items() if k.startswith("report.table.")}
    for column in ("FT", "STS", "RAG", "CP", "Fusion", "parameters"):
        assert column in table, (column, sorted(table))
    # Learnable demo outcomes: mortality from first-day notes and from notes + signals.
    assert metrics["predict_text.test.auroc.mean"] > 0.6
    assert metrics["predict_fusion.test.auroc.mean"] > 0.75
    assert (run_dir / "report" / "results.md").read_text().startswith("| model |")


@pytest.mark.slow
def test_multirun_over_two_model_sizes_gives_two_report_rows(demo_corpus, tmp_path):
    sweep = tmp_path / "sweep"
    args = [
        "-m",
        "task=pipeline",
        "experiment=demo",
        "debug=fast",
        "model=micro,tiny",
        "pipeline.run=[pretrain,finetune]",
        f"pipeline.stages.pretrain=['task=pretrain','corpus.path={demo_corpus}']",
        f"hydra.sweep.dir={sweep}",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "clinicalnotebert", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "clinicalnotebert",
            "task=report",
            f"report.runs=[{sweep}]",
            f"hydra.run.dir={tmp_path / 'report'}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.returncode == 0, report.stderr[-3000:]
    metrics = last_json_line(report.stdout)
    assert metrics["models"] == 2
    assert metrics["table.micro-mlm_ntp.parameters"] < metrics["table.tiny-mlm_ntp.parameters"]
    assert "table.micro-mlm_ntp.FT" in metrics and "table.tiny-mlm_ntp.FT" in metrics
