"""The command line: a malformed file is one ``error:`` line; the grid and Optuna sweeps run as
``-m`` multiruns whose jobs the selection mode then reads."""

import yaml

from tests.finetune.files import write_conll
from tests.finetune.synthetic import write_nli
from tests.helpers import assert_user_error


def test_malformed_conll_is_one_error_line(tmp_path, minilm_dir, cli):
    data = tmp_path / "ner"
    data.mkdir()
    write_conll(data / "devel.tsv", [(("a",), ("O",))])
    write_conll(data / "test.tsv", [(("a",), ("O",))])
    (data / "train.tsv").write_text("Colon\tB-Disease\ncancer\tDisease\n")
    result = cli("task=finetune", f"finetune.path={data}", f"encoder.path={minilm_dir}")
    assert_user_error(result, f"{data / 'train.tsv'}:2", "is not a BIO tag")
    assert "cancer" not in result.stderr and "Disease\n" not in result.stderr  # no note text


def sweep(tmp_path, encoder, cli, *args) -> None:
    """A ``-m`` run of tiny NLI fine-tunings (24 training pairs) in this process: Hydra's basic
    launcher runs the jobs in-process, as it does from the command line."""
    data = write_nli(tmp_path / "mednli", {"train": 24, "dev": 12, "test": 12})
    result = cli(
        "-m",
        "task=finetune",
        "finetune.task=nli",
        f"finetune.path={data}",
        f"encoder.path={encoder}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        *args,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_grid_multirun_then_selection(tmp_path, tiny_encoder, cli, run_in_process):
    sweep(
        tmp_path,
        tiny_encoder,
        cli,
        "hparams_search=finetune_grid",
        "finetune.grid_values.lr=1e-4",
        "finetune.grid_values.epochs=1",
        "finetune.grid_values.batch_size='8,16'",  # quoted: one value holding the sweep list
    )
    jobs = sorted(p.name for p in (tmp_path / "sweep").iterdir() if p.is_dir())
    assert jobs == ["0", "1"]
    metrics = run_in_process(
        "task=finetune", "finetune.task=nli", f"finetune.select_from={tmp_path / 'sweep'}"
    )
    assert metrics["selected.jobs"] == 2
    assert metrics["selected.batch_size"] in (8, 16) and metrics["selected.lr"] == 1e-4


def test_optuna_sweep_maximises_dev_accuracy(tmp_path, tiny_encoder, cli):
    sweep(
        tmp_path,
        tiny_encoder,
        cli,
        "hparams_search=finetune_optuna",
        "hydra.sweeper.n_trials=2",
    )
    results = yaml.safe_load((tmp_path / "sweep" / "optimization_results.yaml").read_text())
    trials = [
        yaml.safe_load((tmp_path / "sweep" / str(i) / "metrics.json").read_text()) for i in (0, 1)
    ]
    assert results["best_value"] == max(t["dev.accuracy"] for t in trials)
    best = results["best_params"]
    assert 1e-5 <= best["finetune.lr"] <= 1e-4 and best["finetune.epochs"] in (2, 3, 4, 5)
