"""NLI end to end on a small JSONL made here, the in-process grid and the selection over jobs."""

import csv
import json

import pytest

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import write_json_atomic
from tests.finetune.synthetic import write_nli

LABELS = ["entailment", "neutral", "contradiction"]


def nli_overrides(data, minilm_dir, *extra):
    return (
        "task=finetune",
        "finetune.task=nli",
        f"finetune.path={data}",
        f"encoder.path={minilm_dir}",
        "finetune.batch_size=8",
        *extra,
    )


def accuracy_from_predictions(run_dir, data) -> float:
    """Accuracy recomputed from test_predictions.jsonl and the gold file, independently."""
    predicted = [json.loads(line)["label"] for line in (run_dir / "test_predictions.jsonl").open()]
    gold = [json.loads(line)["gold_label"] for line in (data / "mli_test_v1.jsonl").open()]
    assert len(predicted) == len(gold)
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)


def test_nli_learns_exports_and_reloads(tmp_path, minilm_dir, run_in_process):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    data = write_nli(tmp_path / "mednli", {"train": 48, "dev": 12, "test": 12})
    run_dir = tmp_path / "run"
    overrides = nli_overrides(data, minilm_dir, "finetune.lr=1e-4", "finetune.epochs=2")
    metrics = run_in_process(*overrides, output_dir=run_dir)
    assert metrics["lr"] == 1e-4 and metrics["epochs"] == 2 and metrics["batch_size"] == 8
    assert metrics["data.train.pairs"] == 48
    assert metrics["test.accuracy"] == pytest.approx(accuracy_from_predictions(run_dir, data))
    assert metrics["test.micro_f1"] == pytest.approx(metrics["test.accuracy"])
    assert metrics["test.accuracy"] > 0.6  # chance is 1/3; the label shows in sentence2's words

    model = AutoModelForSequenceClassification.from_pretrained(run_dir / "model").eval()
    tokenizer = AutoTokenizer.from_pretrained(run_dir / "model")
    assert [model.config.id2label[i] for i in range(3)] == LABELS
    rows = [json.loads(line) for line in (data / "mli_test_v1.jsonl").open()]
    batch = tokenizer(
        [r["sentence1"] for r in rows],
        [r["sentence2"] for r in rows],
        padding=True,
        return_tensors="pt",
    )
    reloaded = [LABELS[i] for i in model(**batch).logits.argmax(-1).tolist()]
    saved = [json.loads(line)["label"] for line in (run_dir / "test_predictions.jsonl").open()]
    assert reloaded == saved


def test_in_process_grid_selects_on_dev(tmp_path, minilm_dir, run_in_process):
    data = write_nli(tmp_path / "mednli", {"train": 48, "dev": 12, "test": 12})
    run_dir = tmp_path / "grid"
    grid = (
        "finetune.grid=true",
        "finetune.grid_values.lr='1e-7,1e-4'",  # 1e-7 cannot learn in 12 steps
        "finetune.grid_values.epochs=2",
        "finetune.grid_values.batch_size=8",
    )
    metrics = run_in_process(*nli_overrides(data, minilm_dir, *grid), output_dir=run_dir)
    assert metrics["selected.jobs"] == 2
    low, high = metrics["grid.lr1e-07_ep2_bs8.dev"], metrics["grid.lr0.0001_ep2_bs8.dev"]
    assert high > low
    assert metrics["selected.lr"] == 1e-4 and metrics["selected.job"] == "lr0.0001_ep2_bs8"
    assert metrics["selected.test.accuracy"] == metrics["grid.lr0.0001_ep2_bs8.test"]
    assert metrics["selection.best_job"] == "lr0.0001_ep2_bs8"
    assert metrics["selection.best.finetune.lr"] == "0.0001"  # the one swept value
    # the kept predictions, model and checkpoints are the selected configuration's
    assert metrics["selected.test.accuracy"] == pytest.approx(
        accuracy_from_predictions(run_dir, data)
    )
    assert (run_dir / "model" / "model.safetensors").is_file()
    assert [p.name for p in (run_dir / "checkpoints").iterdir()] == ["lr0.0001_ep2_bs8"]
    assert (run_dir / "checkpoints" / "lr0.0001_ep2_bs8" / "nli" / "last.ckpt").is_file()
    trials = list(csv.DictReader((run_dir / "selection.csv").open()))
    assert [(t["job"], t["finetune.lr"], t["status"]) for t in trials] == [
        ("lr1e-07_ep2_bs8", "1e-07", "done"),
        ("lr0.0001_ep2_bs8", "0.0001", "best"),
    ]
    assert float(trials[1]["dev.accuracy"]) == high
    # each point's training losses in its own logger folder
    for point in ("lr1e-07_ep2_bs8", "lr0.0001_ep2_bs8"):
        assert (run_dir / "finetune" / point / "nli" / "metrics.csv").is_file()


def write_job(sweep, name: str, metrics: dict, lr: float) -> None:
    """A finished job dir of a Hydra multirun: its config, its overrides and its metrics."""
    job = sweep / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "config.yaml").write_text("seed: 42\n")
    (job / ".hydra" / "overrides.yaml").write_text(f"- finetune.lr={lr}\n")
    write_json_atomic(job / "metrics.json", metrics)


def test_select_from_multirun_picks_best_dev_first_on_ties(tmp_path, run_in_process):
    sweep = tmp_path / "multirun"
    dev_scores = {0: 0.5, 2: 0.8, 10: 0.8, 11: 0.1}  # 2 and 10 tie: the first job wins
    for job, dev in dev_scores.items():
        metrics = {"dev.f1": dev, "test.f1": dev - 0.05, "lr": 1e-5 * (job + 1)}
        write_job(sweep, str(job), metrics, 1e-5 * (job + 1))
    write_job(sweep, "3", {"dev.accuracy": 0.99}, 1e-6)  # another task's metric
    run_dir = tmp_path / "select"
    metrics = run_in_process("task=finetune", f"finetune.select_from={sweep}", output_dir=run_dir)
    assert metrics["selected.job"] == "2"
    assert metrics["selected.test.f1"] == pytest.approx(0.75)
    assert metrics["selected.lr"] == pytest.approx(3e-5)
    assert metrics["selected.jobs"] == 4
    assert metrics["selection.trials"] == 5 and metrics["selection.best_job"] == "2"
    trials = list(csv.DictReader((run_dir / "selection.csv").open()))
    assert [(t["job"], t["status"]) for t in trials] == [
        ("0", "done"),
        ("2", "best"),
        ("3", "done"),
        ("10", "done"),
        ("11", "done"),
    ]
    with pytest.raises(UserError, match="no finished job reports a number for 'dev.micro_f1'"):
        run_in_process("task=finetune", "finetune.task=re", f"finetune.select_from={sweep}")
