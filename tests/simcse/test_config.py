"""The simcse / sts config: the reference batch settings per seq, the two search configs."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir

from clinicalnotebert.config import CONF_DIR


@pytest.mark.parametrize(
    ("seq", "per_device", "accumulate", "fold", "max_tokens"),
    [("sentence", 128, 1, 5, 128), ("segment", 32, 4, 10, 256), ("note", 16, 8, 2, 512)],
)
def test_seq_picks_the_reference_batch(make_cfg, seq, per_device, accumulate, fold, max_tokens):
    cfg = make_cfg("task=simcse", f"seq={seq}")
    s = cfg.simcse
    assert (s.variant, s.per_device, s.accumulate, s.fold) == (seq, per_device, accumulate, fold)
    assert s.max_tokens == max_tokens
    assert (s.temperature, s.weight_decay, s.warmup_ratio) == (0.05, 0.01, 0.1)
    assert cfg.sts.path == cfg.data.sts_dir


def hydra_config(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


def test_grid_search_config_is_the_reference_grid():
    cfg = hydra_config("hparams_search=simcse_grid")
    assert cfg.task.name == "simcse"
    assert cfg.simcse.eval_split == "train_sample"
    assert cfg.optimized_metric == "sts.pearson"
    assert dict(cfg.hydra.sweeper.params) == {
        "simcse.max_steps": "100,500,1000",
        "simcse.lr": "2e-5,3e-5,5e-5",
    }


def test_optuna_search_config_covers_the_same_grid():
    cfg = hydra_config("hparams_search=simcse_optuna")
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper")
    assert sweeper.sampler._target_ == "optuna.samplers.GridSampler"
    assert sweeper.direction == "maximize" and sweeper.n_trials == 9
    assert dict(sweeper.params) == {
        "simcse.max_steps": "choice(100, 500, 1000)",
        "simcse.lr": "choice(2e-5, 3e-5, 5e-5)",
    }
    assert cfg.optimized_metric == "sts.pearson"
