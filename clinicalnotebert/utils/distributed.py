"""Distributed-run plumbing every training stage shares: one DDP job per Hydra job."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

# Set by Lightning's DDP launcher in the process that starts the workers.
LAUNCHER_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")


@contextlib.contextmanager
def one_ddp_job(out_dir: Path, trainer):
    """Keep a DDP run to this one job, also inside a multirun.

    Lightning starts the DDP workers by re-running ``sys.argv`` with Hydra's run dir; in a
    multirun that is the whole sweep (``-m``, every swept value) and not this job's dir, so both
    point at this job while it runs. Afterwards the process group is closed and the environment
    variables the launcher set in this process are undone (with ``LOCAL_RANK`` left set, the next
    job's trainer would wait for workers that nobody starts).
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    saved_env = {name: os.environ.get(name) for name in LAUNCHER_ENV}
    saved_argv = list(sys.argv)
    multirun = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    if multirun:
        sys.argv = [sys.argv[0], *HydraConfig.get().overrides.task]
        saved_dir = set_hydra_run_dir(str(out_dir))
    try:
        yield
    finally:
        sys.argv = saved_argv
        if multirun:
            set_hydra_run_dir(saved_dir)
        end_process_group()
        if getattr(trainer.strategy.launcher, "procs", None):  # this process started workers
            restore_environment(saved_env)


def restore_environment(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def set_hydra_run_dir(run_dir: str) -> str:
    """Set ``hydra.run.dir`` of the running job; return the previous (unresolved) value."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf, read_write

    hydra_cfg = HydraConfig.get()
    previous = OmegaConf.to_container(hydra_cfg.run)["dir"]
    with read_write(hydra_cfg):
        hydra_cfg.run.dir = run_dir
    return previous


def end_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
