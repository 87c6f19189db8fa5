"""task=pipeline: stage wiring, experiment configs, failures, resume, multirun into a report."""

from __future__ import annotations

import csv
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
from clinicalnotebert.pipeline.stages import plan
from tests.helpers import REPO, compose, typed_config


def stage_args(overrides: list[str], run_dir: Path) -> dict[str, list[str]]:
    """Each planned stage's arguments, by stage name."""
    cfg = typed_config(compose(["task=pipeline", *overrides], run_dir))
    return {stage.name: stage.args for stage in plan(cfg, run_dir)}


EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
PAPER = [
    e for e in EXPERIMENTS if e.startswith("paper_") and e != "paper_models"
]  # training recipes
# What a run of a paper experiment needs here instead of MIMIC and the hub (tests only).
OFFLINE = ["data=demo", "tokenizer.path=null", "model.init_from=null", "rag.lm=demo", "debug=fast"]


def test_experiments_are_the_documented_ones():
    assert EXPERIMENTS == [
        "demo",
        "paper_base",
        "paper_models",
        "paper_note_ntp",
        "paper_note_only",
        "paper_small",
        "paper_tiny",
    ]


def test_stage_references_resolve_to_run_dirs(tmp_path):
    stages = stage_args(["experiment=demo"], tmp_path)
    assert stages["pretrain"] == ["task=pretrain", f"corpus.path={tmp_path / 'prepare'}/corpus"]
    # an evaluated model's stages: its checkpoint for the column, its own stages' run dirs
    assert stages["micro-mlm/ft"] == [
        "task=finetune",
        f"encoder.path={tmp_path / 'pretrain_mlm'}/model",
        "encoder.name=micro-mlm",
    ]
    assert stages["nano-mlm_ntp/cp"][-2:] == [
        f"encoder.path={tmp_path / 'nano-mlm_ntp' / 'simcse_note'}/encoder",
        "encoder.name=nano-mlm_ntp",
    ]
    # the report marks the baseline the evaluated models name
    assert stages["report"] == [
        "task=report",
        f"report.runs=[{tmp_path}]",
        "report.baseline=[micro-random]",
    ]
    assert list(stages)[0] == "tokenizer" and list(stages)[-1] == "report"
    assert len([name for name in stages if name.endswith("/sts")]) == 4


def test_stage_reference_errors_and_literal_braces(tmp_path):
    with pytest.raises(UserError, match="unknown stages"):
        stage_args(["pipeline.run=[nope]"], tmp_path)
    typo = ["pipeline.run=[sts]", "pipeline.stages.sts=['task=sts','encoder.path={pretrian}/m']"]
    with pytest.raises(UserError, match=r"'\{pretrian\}' names no stage"):
        stage_args(typo, tmp_path)
    # a dict value keeps its braces: only {word} can be a stage reference
    literal = ["pipeline.run=[report]", "pipeline.stages.report=['task=report','x={a: b}']"]
    assert stage_args(literal, tmp_path)["report"] == ["task=report", "x={a: b}"]


# paper_models evaluates nine models (110 stages); two of them compose the same stages faster
TWO_ZOO_MODELS = "evaluate.models=[ClinicalNoteBERT-note-ntp,ClinicalNoteBERT-tiny]"


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_stage_of_every_experiment_composes(experiment, run_in_process):
    """A dry run composes each stage's full config, the experiment's overrides included."""
    extra = [TWO_ZOO_MODELS] if experiment == "paper_models" else []
    metrics = run_in_process(
        "task=pipeline",
        f"experiment={experiment}",
        *extra,
        "pipeline.dry_run=true",
        f"pipeline.overrides=['experiment={experiment}']",
    )
    # demo: 6 training stages, 9 per model for 4 models, the report; paper_models: note-ntp is
    # released for fine-tuning only (5 stages), tiny has all 13, then the report
    expected = {"demo": 43, "paper_models": 19}.get(experiment, 19 if "note" in experiment else 21)
    # without data.finetune_dir, the paper's five fine-tuning stages have no data path (per model)
    unset = {"demo": 0, "paper_models": 10}.get(experiment, 5)
    assert metrics["stages"] == expected and metrics["dry_run"] == 1
    assert metrics["unset_paths"] == unset
    # offline, the zoo's hub ids cannot be fetched (1 + 4 checkpoints): listed, a run would stop
    assert metrics["unusable_checkpoints"] == (5 if experiment == "paper_models" else 0)


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
    stages = stage_args([f"experiment={experiment}", "debug=fast"], tmp_path)
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
    with pytest.raises(UserError, match=r"stage 'sts' failed: encoder.path '/nonexistent.*run.log"):
        run_in_process(
            "task=pipeline",
            "pipeline.run=[tokenizer,sts,report]",
            "pipeline.stages.sts=['task=sts','encoder.path=/nonexistent/model']",
            "pipeline.overrides=['tokenizer.vocab_size=512','tokenizer.max_training_lines=500']",
            output_dir=out,
        )
    assert (out / "tokenizer" / "metrics.json").is_file()
    assert not (out / "sts" / "metrics.json").exists() and not (out / "report").exists()


def test_a_stage_reruns_when_its_config_changed_though_its_command_line_did_not(
    run_in_process, tmp_path, monkeypatch
):
    """An edited YAML file changes what a stage's unchanged arguments compose to: the stage must
    run again (its old results belong to the old config), and be skipped while nothing changed."""
    from clinicalnotebert.pipeline import task

    # 500 notes: the tokenizer's training is not what this test checks
    overrides = "pipeline.overrides=['data=demo','tokenizer.max_training_lines=500']"
    args = ["task=pipeline", "pipeline.run=[tokenizer]", overrides]
    out = tmp_path / "pipe"
    first = run_in_process(*args, output_dir=out)
    assert "skipped.tokenizer" not in first
    assert run_in_process(*args, output_dir=out)["skipped.tokenizer"] == 1

    composed = task.compose_stages

    def edited_yaml(stages, run_dir):  # as if conf/tokenizer/default.yaml had been edited
        configs = composed(stages, run_dir)
        configs["tokenizer"].tokenizer.vocab_size = 640
        return configs

    monkeypatch.setattr(task, "compose_stages", edited_yaml)
    third = run_in_process(*args, output_dir=out)
    assert "skipped.tokenizer" not in third and third["seconds.tokenizer"] > 0
    assert third["tokenizer.vocab_size"] == 640 < first["tokenizer.vocab_size"]


def pipeline_command(run_dir: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "clinicalnotebert",
        "task=pipeline",
        *args,
        f"hydra.run.dir={run_dir}",
    ]


THIRD_PARTY_NOISE = ("Warning", "warn(", "LeafSpec", "Loading weights", "Writing model", "INFO")


@pytest.mark.slow
@pytest.mark.longest
def test_demo_killed_mid_stage_resumes_and_tells_the_papers_story(tmp_path):
    """`make demo`'s run, killed during its second pretraining and rerun: the finished stages are
    skipped, the rest completes, the terminal reads like a tool (no traceback, no third-party
    warnings, the report's table at the end) and the table shows the paper's comparisons."""
    run_dir = tmp_path / "demo"
    command = pipeline_command(run_dir, "experiment=demo")
    first = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    marker = run_dir / "pretrain_mlm" / "stage.json"
    deadline = time.monotonic() + 900
    while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert first.poll() is None, "the pipeline ended before the stage to kill"
    time.sleep(3)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert not (run_dir / "pretrain_mlm" / "metrics.json").exists()

    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert second.returncode == 0, second.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for stage in ("tokenizer", "prepare", "pretrain"):
        assert metrics[f"skipped.{stage}"] == 1
    assert "skipped.pretrain_mlm" not in metrics and metrics["seconds.pretrain_mlm"] > 0

    # the console: one line per stage, no traceback or third-party chatter, ends with the table
    console = second.stdout + second.stderr
    assert "Traceback" not in console
    noise = [line for line in console.splitlines() if any(n in line for n in THIRD_PARTY_NOISE)]
    assert not noise, noise[:5]
    table = (run_dir / "report" / "results.md").read_text()
    assert second.stdout.rstrip().split("run dir:")[0].rstrip().endswith(table.rstrip()[-200:])

    # the story, from the demo's own metrics
    rows = {r["model"]: r for r in csv.DictReader((run_dir / "report" / "results.csv").open())}
    assert len(rows) >= 3 and set(rows) >= {"micro-mlm_ntp", "micro-mlm", "nano-mlm_ntp"}
    assert any(name.endswith("random") for name in rows)
    for name in ("micro-mlm_ntp", "micro-mlm", "nano-mlm_ntp"):
        assert metrics[f"{name}/rag.reduction.topk"] > 0, name
        assert metrics[f"{name}/rag.patients.overlap"] == 0, name
    assert metrics["micro-mlm_ntp/sts.pearson"] > metrics["micro-mlm_ntp/sts_raw.pearson"]
    assert float(rows["nano-mlm_ntp"]["parameters"]) < float(rows["micro-mlm_ntp"]["parameters"])
    # learnable demo outcomes: mortality from first-day notes and from notes + signals
    assert metrics["micro-mlm_ntp/cp.test.auroc.mean"] > 0.6
    assert metrics["micro-mlm_ntp/fusion.test.auroc.mean"] > 0.75


def test_evaluated_models_run_as_lanes_between_shared_stages(tmp_path):
    """The steps a pipeline runs, grouped: a shared stage alone, then the evaluated models'
    stages as one lane per model (each lane keeps its model's order), then the report."""
    from types import SimpleNamespace

    from clinicalnotebert.pipeline.lanes import blocks

    def step(name: str, model: str | None = None):
        return SimpleNamespace(stage=SimpleNamespace(name=name, model=model))

    steps = [step("prepare"), step("a/sts", "a"), step("b/sts", "b"), step("a/ft", "a"),
             step("report"), step("c/sts", "c")]  # fmt: skip
    names = [[[s.stage.name for s in lane] for lane in block] for block in blocks(steps)]
    assert names == [[["prepare"]], [["a/sts", "a/ft"], ["b/sts"]], [["report"]], [["c/sts"]]]
