"""task=report on hand-made run dirs: lineage labels, column averages, shares of the best."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from clinicalnotebert.errors import UserError
from tests.report.fakes import encoder_run, make_run, pretrain_run


@pytest.fixture
def two_models(tmp_path):
    """micro and tiny lineages: pretrain -> simcse -> sts/predict, and finetune on the raw model."""
    runs = tmp_path / "runs"
    sizes = {}
    for size, hidden in (("micro", 16), ("tiny", 32)):
        pre, sizes[size] = pretrain_run(runs, f"{size}-pretrain", size, hidden)
        simcse = runs / f"{size}-simcse"
        (simcse / "encoder").mkdir(parents=True)
        (simcse / ".hydra").mkdir()
        OmegaConf.save(
            OmegaConf.create({"task": {"name": "simcse"}, "encoder": {"path": str(pre / "model")}}),
            simcse / ".hydra" / "config.yaml",
        )
        (simcse / "metrics.json").write_text(json.dumps({"train.loss": 1.0}))
        score = 70.0 if size == "micro" else 80.0
        encoder_run(runs, f"{size}-sts", "sts", simcse / "encoder", {}, {"pearson": score})
        encoder_run(runs, f"{size}-sts-raw", "sts", pre / "model", {}, {"pearson": 10.0})
        for task, auroc in (("mort_hosp", 0.8), ("los_3", 0.6)):
            bump = 0.1 if size == "tiny" else 0.0
            encoder_run(
                runs,
                f"{size}-cp-{task}",
                "predict",
                simcse / "encoder",
                {"predict": {"modality": "text", "task": task}},
                {"test.auroc.mean": auroc + bump},
            )
        encoder_run(
            runs,
            f"{size}-ft",
            "finetune",
            pre / "model",
            {"finetune": {"task": "ner"}},
            {"test.f1": 0.5},
        )
    return runs, sizes


def test_report_table_follows_lineage_and_averages_columns(two_models, run_in_process, tmp_path):
    runs, sizes = two_models
    out = tmp_path / "report"
    metrics = run_in_process("task=report", f"report.runs=[{runs}]", output_dir=out)
    assert metrics["models"] == 2
    # STS only from SimCSE encoders: the raw model's 10.0 is not averaged in.
    assert metrics["table.micro-mlm_ntp.STS"] == 70.0
    assert metrics["table.tiny-mlm_ntp.STS"] == 80.0
    # CP = mean over its sub-tasks of AUROC x 100: micro (80 + 60) / 2, tiny (90 + 70) / 2.
    assert metrics["table.micro-mlm_ntp.CP"] == pytest.approx(70.0)
    assert metrics["table.tiny-mlm_ntp.CP"] == pytest.approx(80.0)
    assert metrics["table.micro-mlm_ntp.CP.los_3"] == pytest.approx(60.0)
    # FT from the pretrained model: F1 0.5 x 100.
    assert metrics["table.micro-mlm_ntp.FT"] == 50.0
    assert metrics["table.micro-mlm_ntp.parameters"] == sizes["micro"]
    assert metrics["table.tiny-mlm_ntp.parameters"] == sizes["tiny"]
    text = (out / "results.md").read_text()
    # micro: STS 70/80, CP 70/80, FT 50/50 -> mean share (87.5 + 87.5 + 100) / 3 = 91.7%.
    share = 100 * sizes["micro"] / sizes["tiny"]
    assert (
        f"- micro-mlm_ntp keeps 92% of the best score with {share:.0f}% of the parameters of the "
        "largest model." in text
    )
    # single runs without seeds: plain numbers, no spread
    assert "| 50.0 | 70.0 | - | 70.0 | - |" in text and "±" not in text.split("\n\n")[0]
    assert (out / "results.csv").read_text().splitlines()[0].startswith("model,baseline,")
    assert (out / "score_vs_params.png").stat().st_size > 1000
    assert (out / "scores_by_column.png").stat().st_size > 1000


def test_a_curriculum_is_named_after_its_first_runs_origin_and_foreign_runs_are_skipped(
    run_in_process, tmp_path
):
    runs = tmp_path / "runs"
    sentence, _ = pretrain_run(runs, "pretrain_sentence", "tiny", 16)
    segment, _ = pretrain_run(runs, "pretrain_segment", "tiny", 16)
    note, _ = pretrain_run(runs, "pretrain_note", "tiny", 16)
    for run_dir, init_from in (
        (sentence, "org/PubMedX"),
        (segment, str(sentence / "model")),
        (note, str(segment / "model")),
    ):
        config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
        config.model.init_from = init_from
        OmegaConf.save(config, run_dir / ".hydra" / "config.yaml")
    simcse = encoder_run(runs, "simcse", "simcse", note / "model", {}, {"train.loss": 1.0})
    (simcse / "encoder").mkdir()
    encoder_run(runs, "sts", "sts", simcse / "encoder", {}, {"pearson": 50.0})
    make_run(runs, "other_tool", {"lr": 1}, {"acc": 1})
    broken = make_run(runs, "broken", {"task": {"name": "sts"}}, {})
    (broken / "metrics.json").write_text("{half")
    columns = "report.columns={STS: {task: sts, where: {}, metric: pearson, scale: 1}}"
    metrics = run_in_process(
        "task=report", f"report.runs=[{runs}]", columns, output_dir=tmp_path / "r"
    )
    assert metrics["models"] == 1
    assert metrics["table.tiny-mlm_ntp-from-PubMedX.STS"] == 50.0, metrics


def test_report_needs_runs(run_in_process, tmp_path):
    with pytest.raises(UserError, match="report.runs"):
        run_in_process("task=report")
    with pytest.raises(UserError, match="nothing matches"):
        run_in_process("task=report", f"report.runs=[{tmp_path / 'nope'}]")


def test_report_fills_the_readme_block_and_keeps_the_rest(two_models, run_in_process, tmp_path):
    runs, _ = two_models
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Title\n\n## Results\n<!-- demo-results:start -->\nold table\n"
        "<!-- demo-results:end -->\n\n## After\ntext\n"
    )
    out = tmp_path / "report"
    args = ("task=report", f"report.runs=[{runs}]", f"report.readme={readme}")
    run_in_process(*args, output_dir=out)
    filled = readme.read_text()
    assert "old table" not in filled
    assert filled.startswith("# Title\n\n## Results\n<!-- demo-results:start -->\n_Generated by")
    assert filled.endswith("<!-- demo-results:end -->\n\n## After\ntext\n")
    block = filled.split("<!-- demo-results:start -->\n")[1].split("<!-- demo-results:end -->")[0]
    assert (out / "results.md").read_text().strip() in block
    # a second run replaces the block rather than adding another
    run_in_process(*args, output_dir=out)
    assert readme.read_text() == filled
    readme.write_text("# no markers\n")
    with pytest.raises(UserError, match="demo-results"):
        run_in_process(*args, output_dir=out)


def test_a_failed_rerun_in_the_same_dir_leaves_no_stale_metrics(
    two_models, run_in_process, tmp_path
):
    runs, _ = two_models
    out = tmp_path / "report"
    run_in_process("task=report", f"report.runs=[{runs}]", output_dir=out)
    assert (out / "metrics.json").is_file()
    with pytest.raises(UserError):
        run_in_process("task=report", f"report.runs=[{tmp_path / 'nope'}]", output_dir=out)
    assert not (out / "metrics.json").exists()
