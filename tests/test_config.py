"""The typed schemas: every conf section composes onto them, and a bad value is one error line
at composition, in a single run and in every job of a sweep."""

from __future__ import annotations

from dataclasses import fields

import pytest

from clinicalnotebert.config import CONF_DIR, Config, typed
from clinicalnotebert.errors import UserError
from tests.helpers import assert_user_error, compose, run_main

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_onto_the_schema_with_every_value_set(experiment, tmp_path):
    cfg = typed(compose([f"experiment={experiment}"], tmp_path))
    assert isinstance(cfg, Config)
    # each section is its schema's class (library code gets typed objects, not dicts)
    for item in fields(Config):
        value = getattr(cfg, item.name)
        if item.name not in ("trainer", "logger", "seed", "optimized_metric"):
            assert type(value).__name__ == item.type.split(" ")[0], item.name


def test_a_section_gets_its_values_typed(tmp_path):
    cfg = typed(compose(["rag.k=7", "finetune.lr=1e-5", "prepare.dedup=false"], tmp_path))
    assert cfg.rag.k == 7 and cfg.finetune.lr == pytest.approx(1e-5)
    assert cfg.prepare.dedup is False
    assert isinstance(cfg.finetune.lr, float)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("rag.k=abc", "rag.k: expected a whole number (got 'abc')"),
        ("finetune.lr=fast", "finetune.lr: expected a number (got 'fast')"),
        ("prepare.dedup=maybe", "prepare.dedup: expected true or false (got 'maybe')"),
        ("pretrain.nope=1", "unknown config key 'pretrain.nope'"),
        ("+pretrain.batch.nope=1", "unknown config key 'pretrain.batch.nope'"),
        ("rag.pooling=max", "rag.pooling 'max' is not one of cls, mean"),
        ("rag.k=0", "rag.k must be at least 1 (got 0)"),
        ("objective.mlm_probability=1.5", "objective.mlm_probability must be in (0, 1)"),
        ("model=huge", "unknown model 'huge' (choose from: base, micro, nano, small, tiny)"),
        ("data=csv", "data.path is not set"),
    ],
)
def test_a_bad_value_is_one_error_line_before_anything_runs(override, message, tmp_path):
    result = run_main(["task=report", override], tmp_path / "run")
    assert_user_error(result, message)
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_in_a_sweep_every_job_is_checked_and_a_bad_one_is_named(tmp_path):
    result = run_main(["-m", "task=report", "rag.k=3,x,5", f"hydra.sweep.dir={tmp_path / 's'}"])
    line = assert_user_error(result, "job 1 (task=report rag.k=x)", "expected a whole number")
    assert "job 0" not in line
    assert not (tmp_path / "s").exists()  # no job ran


def test_a_sweep_config_value_is_checked_too(tmp_path):
    """hparams_search configs put their grid in hydra.sweeper.params: those jobs count too."""
    result = run_main(
        [
            "-m",
            "hparams_search=finetune_grid",
            "finetune.grid_values.epochs='3,many'",  # quoted: one value, the grid's list
            f"hydra.sweep.dir={tmp_path / 's'}",
        ]
    )
    assert_user_error(result, "finetune.epochs: expected a whole number (got 'many')")


def test_a_failed_job_of_a_sweep_names_its_number(tmp_path):
    missing = tmp_path / "nowhere"
    result = run_main(
        ["-m", "task=sts", f"encoder.path={missing}/a,{missing}/b", f"hydra.sweep.dir={tmp_path}"]
    )
    assert_user_error(result, "job 0: encoder.path", "does not exist")


def test_typed_refuses_keys_beyond_the_schema(tmp_path):
    from omegaconf import OmegaConf

    cfg = compose([], tmp_path)
    OmegaConf.update(cfg, "rag.index.extra", 1, force_add=True)  # what Hydra's +key does
    with pytest.raises(UserError, match="unknown config key 'rag.index.extra'"):
        typed(cfg)


def test_a_command_line_run_composes_once_besides_its_check(tmp_path, monkeypatch):
    """Hydra's start composes the whole config once only to read ``hydra.mode``; the entrypoint
    hands it the mode its check read, so a run composes for the check and for the run."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    from clinicalnotebert.composer import TREES

    calls = []
    load = ConfigLoaderImpl.load_configuration
    monkeypatch.setattr(
        ConfigLoaderImpl,
        "load_configuration",
        lambda self, *args, **kwargs: (
            calls.append(kwargs.get("run_mode")) or load(self, *args, **kwargs)
        ),
    )
    TREES.clear()  # the check's composition is counted too
    missing = tmp_path / "nowhere"
    result = run_main(["task=sts", "sts.split=test", f"encoder.path={missing}"], tmp_path / "run")
    assert_user_error(result, "encoder.path", "does not exist")
    assert len(calls) == 2, calls
    # hydra.mode set on the command line or in a config file still decides the mode: a one-job
    # sweep, whose error names its job
    experiments = tmp_path / "conf" / "experiment"
    experiments.mkdir(parents=True)
    (experiments / "as_sweep.yaml").write_text("# @package _global_\nhydra:\n  mode: MULTIRUN\n")
    for mode_setting in (
        ["hydra.mode=MULTIRUN"],
        [f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "experiment=as_sweep"],
    ):
        sweep = tmp_path / "sweep" / str(len(mode_setting))
        result = run_main(["task=sts", *mode_setting, f"encoder.path={missing}",
                           f"hydra.sweep.dir={sweep}"])  # fmt: skip
        assert_user_error(result, "job 0: encoder.path", "does not exist")
        assert (sweep / "0").is_dir()
