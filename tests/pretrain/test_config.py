"""The pretraining recipe, trainer, logger and SLURM launcher configs compose as documented."""

from __future__ import annotations

from hydra.utils import instantiate


def strategy_of(cfg):
    return instantiate(cfg.trainer["strategy"], _convert_="all")


def test_reference_recipe_is_the_default(make_cfg):
    pre = make_cfg("task=pretrain").pretrain
    assert (pre.optimizer.lr, pre.optimizer.weight_decay, pre.optimizer.eps) == (6e-4, 0.01, 1e-6)
    assert pre.schedule.warmup_ratio == 0.1 and pre.sparse_mlm and pre.ckpt_path == "last"
    # effective batch 500 sequences for every variant
    for seq, (per_device, accumulate) in {
        "sentence": (50, 10), "segment": (25, 20), "note": (10, 50)
    }.items():  # fmt: skip
        cfg = make_cfg("task=pretrain", f"seq={seq}")
        assert (cfg.pretrain.variant, cfg.pretrain.batch.sequences) == (seq, per_device)
        assert cfg.pretrain.batch.accumulate == accumulate
    assert make_cfg("objective=mlm_ntp").objective.ntp_weight == 1.0


def test_gpu_trainers_use_bf16_and_their_strategies(make_cfg):
    from pytorch_lightning.strategies import DDPStrategy, FSDPStrategy
    from torch.distributed.fsdp.wrap import ModuleWrapPolicy

    assert make_cfg("trainer=gpu").trainer["precision"] == "bf16-mixed"
    ddp = make_cfg("trainer=ddp")
    assert ddp.trainer["accelerator"] == "gpu" and ddp.trainer["devices"] == -1
    assert isinstance(strategy_of(ddp), DDPStrategy)
    fsdp = strategy_of(make_cfg("trainer=fsdp"))
    assert isinstance(fsdp, FSDPStrategy)
    assert isinstance(fsdp.kwargs["auto_wrap_policy"], ModuleWrapPolicy)
    sim = make_cfg("trainer=ddp_sim").trainer
    assert (sim["accelerator"], sim["devices"], sim["strategy"]) == ("cpu", 2, "ddp")


def test_slurm_launcher_is_submitit_with_one_task_per_gpu():
    from hydra import compose, initialize_config_dir

    from clinicalnotebert.config import CONF_DIR

    overrides = ["task=pretrain", "hydra/launcher=slurm", "hydra.launcher.gpus_per_node=4"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.tasks_per_node == 4 and launcher.max_num_timeout > 0


def test_wandb_is_offline_unless_asked(make_cfg):
    assert make_cfg("logger=wandb").logger["offline"] is True
    assert make_cfg("logger=wandb", "logger.offline=false").logger["offline"] is False


def test_wandb_never_captures_the_console(make_cfg, tmp_path, monkeypatch):
    import wandb

    monkeypatch.setenv("WANDB_MODE", "offline")
    logger = instantiate(make_cfg("logger=wandb", output_dir=tmp_path).logger)
    try:
        assert logger.experiment.settings.console == "off"
    finally:
        wandb.finish()
