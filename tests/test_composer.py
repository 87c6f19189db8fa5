"""The composer gives what Hydra's own compose gives, for every kind of stage and every error."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from clinicalnotebert.composer import TREES

STAGES = [
    ["task=tokenizer", "experiment=demo"],
    ["task=pretrain", "experiment=demo", "objective=mlm", "corpus.path=/c", "model=nano"],
    ["task=simcse", "experiment=demo", "seq=note", "corpus.path=/c", "encoder.path=/m"],
    ["task=predict", "experiment=demo", "predict.modality=both", "encoder.path=/m"],
    ["task=report", "experiment=demo", "report.runs=[/a,/b]", "+report.extra=1"],
    ["task=sts", "++report.labels={micro: Micro}", "~logger"],
    ["task=finetune", "finetune=default", "finetune.lr=1e-4", "hydra.job.chdir=false"],
    ["task=sts", "hydra.run.dir=/runs/a", "hydra.sweep.dir=/sweeps/b"],
]
ERRORS = [
    ["task=sts", "sts.split=3.5x", "model.hidden_size=wide"],
    ["task=sts", "sts.no_such_key=1"],
    ["task=nope"],
    ["task=sts", "encoder.path=a,b"],
    ["task=sts", "model@x=micro"],
]


@pytest.fixture(scope="module")
def composers():
    from hydra import compose, initialize_config_dir

    from clinicalnotebert.composer import Composer
    from clinicalnotebert.config import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield (lambda overrides: compose("config", overrides=overrides)), Composer()


def plain(cfg) -> dict:
    return OmegaConf.to_container(cfg, resolve=False)


def test_each_stage_gets_the_config_compose_gives_and_trees_are_shared(composers):
    compose, composer = composers
    for overrides in STAGES:
        assert plain(composer.compose(overrides)) == plain(compose(overrides)), overrides
    # a second stage of the same shape costs no composition, and edits no earlier config
    first = composer.compose(STAGES[2])
    trees = len(TREES)
    other = composer.compose([*STAGES[2][:-1], "encoder.path=/other"])
    assert len(TREES) == trees
    assert (first.encoder.path, other.encoder.path) == ("/m", "/other")
    # nor does another run dir: it is a value of the hydra node, which the tree drops
    composer.compose([*STAGES[2], "hydra.run.dir=/runs/c", "hydra.sweep.subdir=job1"])
    assert len(TREES) == trees


@pytest.mark.parametrize("overrides", ERRORS, ids=lambda o: o[-1])
def test_a_bad_override_fails_with_the_message_compose_gives(composers, overrides):
    compose, composer = composers
    with pytest.raises(Exception) as expected:
        compose(overrides)
    with pytest.raises(type(expected.value)) as got:
        composer.compose(overrides)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("overrides", [["task=sts"], ["task=sts", "hydra.mode=MULTIRUN"]])
def test_the_run_mode_is_the_one_hydra_reads(composers, overrides):
    from hydra import compose

    _, composer = composers
    expected = compose("config", overrides=overrides, return_hydra_config=True).hydra.mode
    assert composer.run_mode(overrides) == expected
