"""task=report's view of the results: mean ± spread cells, baseline rows, encoder.name rows, the
paper's sentence for every model, the plots and the README block with its images.

Expected numbers are worked out by hand in the comments (std: NumPy's, ddof 0, as
``clinicalnotebert/predict/metrics.py:mean_and_std`` writes it; ddof 1 would give other values).
"""

from __future__ import annotations

import csv

import pytest

from clinicalnotebert.report.plots import bars_figure, scatter_figure
from tests.report.fakes import encoder_run, predict_metrics, pretrain_run, save_encoder

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def text_task(task: str, modality: str = "text") -> dict:
    return {"predict": {"modality": modality, "task": task}}


@pytest.fixture
def three_models(tmp_path):
    """Big and Small: outside encoders saved locally (parameters known), named by encoder.name;
    org/PubMed-hub: a hub id (parameters unknown), renamed PubMed and made the baseline."""
    runs, encoders = tmp_path / "runs", tmp_path / "encoders"
    params = {
        "Big": save_encoder(encoders / "big", 64),
        "Small": save_encoder(encoders / "small", 16),
    }
    big, small, hub = encoders / "big", encoders / "small", "org/PubMed-hub"
    # Big
    encoder_run(runs, "big-sts", "sts", big, {}, {"pearson": 80.0}, "Big")
    for i, f1 in enumerate((0.5, 0.7)):  # two repeated runs of one sub-task
        encoder_run(runs, f"big-ft-{i}", "finetune", big, {"finetune": {"task": "ner"}},
                    {"test.f1": f1}, "Big")  # fmt: skip
    encoder_run(runs, "big-cp-mort", "predict", big, text_task("mort_hosp"),
                predict_metrics([0.80, 0.84], std=0.02), "Big")  # fmt: skip
    # no .std key: the spread comes from the seeds
    encoder_run(runs, "big-cp-los", "predict", big, text_task("los_3"),
                predict_metrics([0.60, 0.66], std=None), "Big")  # fmt: skip
    for i, seeds in enumerate(([0.80, 0.84], [0.70, 0.74])):  # two seeded runs, one sub-task
        encoder_run(runs, f"big-fusion-{i}", "predict", big, text_task("mort_hosp", "both"),
                    predict_metrics(seeds, std=0.02), "Big")  # fmt: skip
    # Small
    encoder_run(runs, "small-sts", "sts", small, {}, {"pearson": 60.0}, "Small")
    encoder_run(runs, "small-ft", "finetune", small, {"finetune": {"task": "ner"}},
                {"test.f1": 0.4}, "Small")  # fmt: skip
    encoder_run(runs, "small-cp-mort", "predict", small, text_task("mort_hosp"),
                predict_metrics([0.70, 0.74], std=0.02), "Small")  # fmt: skip
    encoder_run(runs, "small-cp-los", "predict", small, text_task("los_3"),
                predict_metrics([0.60, 0.60], std=0.0), "Small")  # fmt: skip
    # the baseline, named by its hub id
    encoder_run(runs, "pubmed-sts", "sts", hub, {}, {"pearson": 90.0})
    return runs, params


def report_args(runs, *extra):
    return (
        "task=report",
        f"report.runs=[{runs}]",
        "++report.labels={org/PubMed-hub: PubMed}",
        "report.baseline=[PubMed]",
        *extra,
    )


def test_cells_show_the_spread_and_the_baseline_comes_last(three_models, run_in_process, tmp_path):
    runs, params = three_models
    out = tmp_path / "report"
    metrics = run_in_process(*report_args(runs), output_dir=out)
    assert metrics["models"] == 3
    t = {k.removeprefix("table."): v for k, v in metrics.items() if k.startswith("table.")}
    # CP mortality: seeds 0.80, 0.84 -> 82.0 and the run's std 0.02 -> 2.00
    assert t["Big.CP.mort_hosp"] == pytest.approx(82.0)
    assert t["Big.CP.mort_hosp.std"] == pytest.approx(2.0)
    # CP LOS without .std: seeds 0.60, 0.66 -> 63.0, std |0.66 - 0.63| = 0.03 -> 3.00
    # (ddof 1 would be 4.24)
    assert t["Big.CP.los_3"] == pytest.approx(63.0)
    assert t["Big.CP.los_3.std"] == pytest.approx(3.0)
    # CP column: (82 + 63) / 2 = 72.5; root mean square sqrt((2^2 + 3^2) / 2) = 2.5495
    assert t["Big.CP"] == pytest.approx(72.5)
    assert t["Big.CP.std"] == pytest.approx(2.5495, abs=1e-4)
    # FT: two single runs 50, 70 -> 60.0, std over runs 10.0
    assert t["Big.FT"] == pytest.approx(60.0) and t["Big.FT.std"] == pytest.approx(10.0)
    # Fusion: runs 0.80/0.84 and 0.70/0.74, pooled: the 4 seeds around 0.77 deviate by
    # 0.03, 0.07, 0.07, 0.03 -> sqrt(0.0116 / 4) = 0.05385
    assert t["Big.Fusion"] == pytest.approx(77.0)
    assert t["Big.Fusion.std"] == pytest.approx(5.385, abs=1e-3)
    # a single run without seeds has no spread
    assert t["Big.STS"] == 80.0 and "Big.STS.std" not in t

    text = (out / "results.md").read_text()
    table = text.split("\n\n")[0].splitlines()
    # Big: mean (60 + 80 + 72.5 + 77) / 4 = 72.4; shares FT 60/60, STS 80/90, CP 1, Fusion 1
    # -> (100 + 88.9 + 100 + 100) / 4 = 97%
    p_big, p_small = params["Big"] / 1e6, params["Small"] / 1e6
    assert table[2] == (
        f"| Big | {p_big:.3g} | 60.0 ± 10.00 | 80.0 | - | 72.5 ± 2.55 | 77.0 ± 5.39 | 72.4 | 97% |"
    )
    # Small: CP (72 + 60) / 2 = 66.0 ± sqrt((2^2 + 0^2) / 2) = 1.41; mean (40 + 60 + 66) / 3
    assert table[3] == f"| Small | {p_small:.3g} | 40.0 | 60.0 | - | 66.0 ± 1.41 | - | 55.3 | 75% |"
    # the baseline sorts between Big and Small by name but is shown last, marked
    assert table[4] == "| PubMed (baseline) | - | - | 90.0 | - | - | - | 90.0 | 100% |"
    assert len(table) == 5
    assert "root mean square" in text and "ddof 0" in text and "`report.baseline`" in text

    with open(out / "results.csv", newline="") as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle)}
    assert list(rows) == ["Big", "Small", "PubMed"]
    assert rows["PubMed"]["baseline"] == "1" and rows["Big"]["baseline"] == "0"
    assert float(rows["Big"]["CP.std"]) == pytest.approx(2.5495, abs=1e-4)
    assert float(rows["Big"]["CP.los_3.std"]) == pytest.approx(3.0)
    assert rows["Big"]["STS.std"] == "" and float(rows["Big"]["STS"]) == 80.0


def test_the_papers_sentence_for_every_model(three_models, run_in_process, tmp_path):
    runs, params = three_models
    out = tmp_path / "report"
    run_in_process(*report_args(runs, "report.plots=false"), output_dir=out)
    sentences = (out / "results.md").read_text().split("\n\n")[-1].splitlines()
    # Small: FT 40/60, STS 60/90, CP 66/72.5 -> (66.67 + 66.67 + 91.03) / 3 = 74.8 -> 75%
    share = round(100 * params["Small"] / params["Big"])
    assert 0 < share < 100
    assert sentences == [
        "- Big keeps 97% of the best score with 100% of the parameters of the largest model.",
        f"- Small keeps 75% of the best score with {share}% of the parameters of the largest model.",
        # parameters unknown (a hub id): the sentence without them
        "- PubMed (baseline) keeps 100% of the best score.",
    ]
    assert not (out / "score_vs_params.png").exists()


def test_encoder_name_names_the_row_and_labels_rename_it(run_in_process, tmp_path):
    runs = tmp_path / "runs"
    for size, hidden in (("micro", 16), ("tiny", 32)):
        pre, _ = pretrain_run(runs, f"{size}-pretrain", size, hidden)
        simcse = encoder_run(runs, f"{size}-simcse", "simcse", pre / "model", {}, {"loss": 1.0})
        (simcse / "encoder").mkdir()
    micro, tiny = runs / "micro-simcse" / "encoder", runs / "tiny-simcse" / "encoder"
    encoder_run(runs, "micro-sts", "sts", micro, {}, {"pearson": 70.0}, "CNB-micro")
    encoder_run(runs, "tiny-sts-named", "sts", tiny, {}, {"pearson": 75.0}, "CNB-tiny")
    encoder_run(runs, "tiny-sts", "sts", tiny, {}, {"pearson": 80.0})  # no name: its lineage
    metrics = run_in_process(
        "task=report",
        f"report.runs=[{runs}]",
        "++report.labels={CNB-tiny: ClinicalNoteBERT-tiny}",
        output_dir=tmp_path / "report",
    )
    rows = {k.split(".")[1]: v for k, v in metrics.items() if k.endswith(".STS")}
    assert rows == {"CNB-micro": 70.0, "ClinicalNoteBERT-tiny": 75.0, "tiny-mlm_ntp": 80.0}
    # micro-mlm_ntp's pretraining run has no score of its own: no empty row for it
    assert metrics["models"] == 3
    assert metrics["table.tiny-mlm_ntp.parameters"] > 0


def hand_table() -> dict[str, dict]:
    return {
        "Big": {"parameters": 110e6, "CP": 72.5, "CP.std": 2.5, "STS": 80.0, "STS.std": None},
        "Tiny": {"parameters": 14.5e6, "CP": 66.0, "CP.std": None, "STS": 60.0, "STS.std": 1.0},
        "Base": {"parameters": None, "CP": 70.0, "CP.std": 0.5, "STS": None, "STS.std": None},
    }


def test_bars_group_by_column_with_error_bars_from_the_spread():
    import matplotlib.pyplot as plt

    fig = bars_figure(hand_table(), ["FT", "STS", "CP"], baselines=["Base"])
    try:
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["STS", "CP"]  # FT: no scores
        from matplotlib.container import BarContainer

        bars = [c for c in ax.containers if isinstance(c, BarContainer)]
        big, _, base = bars  # one bar series per model
        assert [bar.get_height() for bar in big] == [80.0, 72.5]
        assert len(base) == 1 and base.patches[0].get_hatch() == "//"
        assert ax.get_legend_handles_labels()[1] == ["Big", "Tiny", "Base (baseline)"]
        # Big's CP bar: an error bar from 70.0 to 75.0; its STS bar (no spread) has none
        segments = [s for s in big.errorbar.lines[2][0].get_segments() if len(s)]
        assert [(s[0][1], s[1][1]) for s in segments] == [(70.0, 75.0)]
    finally:
        plt.close(fig)


def test_score_against_parameters_has_a_log_axis_and_one_panel_per_column():
    import matplotlib.pyplot as plt

    fig = scatter_figure(hand_table(), ["FT", "STS", "CP"], baselines=["Base"])
    try:
        # FT has no model with a parameter count: no panel; Base has none either: no point
        assert [ax.get_title() for ax in fig.axes] == ["STS", "CP"]
        for ax in fig.axes:
            assert ax.get_xscale() == "log"
            assert [t.get_text() for t in ax.get_xticklabels()] == ["14.5", "110"]  # the sizes
        # one legend for the figure, each model once, in the table's order
        assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Big", "Tiny"]
        # per panel: (parameters in millions, score) of Big then Tiny; error bars on CP's Big
        points = [[tuple(c.lines[0].get_xydata()[0]) for c in ax.containers] for ax in fig.axes]
        assert points == [[(110.0, 80.0), (14.5, 60.0)], [(110.0, 72.5), (14.5, 66.0)]]
        cp_bars = [s for c in fig.axes[1].containers for s in c.lines[2][0].get_segments()]
        assert [(s[0][1], s[1][1]) for s in cp_bars if len(s)] == [(70.0, 75.0)]
    finally:
        plt.close(fig)
    assert scatter_figure({"A": {"parameters": None, "CP": 1.0}}, ["CP"]) is None


def test_the_readme_block_links_the_plots_copied_beside_it(three_models, run_in_process, tmp_path):
    runs, _ = three_models
    repo = tmp_path / "repo"
    repo.mkdir()
    readme = repo / "README.md"
    readme.write_text("# T\n<!-- demo-results:start -->\nold\n<!-- demo-results:end -->\nend\n")
    out = tmp_path / "report"
    run_in_process(
        *report_args(runs, f"report.readme={readme}", "report.readme_assets=docs/demo"),
        output_dir=out,
    )
    block = readme.read_text().split("<!-- demo-results:start -->")[1]
    block = block.split("<!-- demo-results:end -->")[0]
    assert "| PubMed (baseline) |" in block and "- Small keeps 75% of the best score" in block
    links = [line for line in block.splitlines() if line.startswith("![")]
    assert [link.split("](")[1] for link in links] == [
        "docs/demo/scores_by_column.png)",
        "docs/demo/score_vs_params.png)",
    ]
    for name in ("scores_by_column.png", "score_vs_params.png"):
        copy, made = repo / "docs" / "demo" / name, out / name
        assert copy.read_bytes() == made.read_bytes()
        assert made.read_bytes()[:8] == PNG_MAGIC and made.stat().st_size > 5000
    # report.readme_assets=null: the table goes in, no images are linked or copied
    other = tmp_path / "repo2"
    other.mkdir()
    readme2 = other / "README.md"
    readme2.write_text("<!-- demo-results:start -->\n<!-- demo-results:end -->\n")
    run_in_process(
        *report_args(runs, f"report.readme={readme2}", "report.readme_assets=null"),
        output_dir=tmp_path / "report2",
    )
    assert "| Big |" in readme2.read_text() and "![" not in readme2.read_text()
    assert sorted(p.name for p in other.iterdir()) == ["README.md"]


def test_without_readme_nothing_is_copied(three_models, run_in_process, tmp_path, monkeypatch):
    runs, _ = three_models
    monkeypatch.chdir(tmp_path)  # a relative readme_assets would land here
    out = tmp_path / "report"
    run_in_process(*report_args(runs), output_dir=out)
    assert (out / "scores_by_column.png").read_bytes()[:8] == PNG_MAGIC
    assert not (tmp_path / "docs").exists()
