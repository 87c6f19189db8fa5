"""Running one stage: in this process, or as its own ``python -m clinicalnotebert`` command.

In this process a stage skips the start-up of Python, torch and transformers (seconds per stage,
a large share of a short evaluation); a stage whose trainer starts several processes (DDP,
FSDP, several nodes) runs as its own command, since Lightning starts its workers by re-running
the command line. Either way the stage leaves a normal run dir: ``.hydra/config.yaml``,
``metrics.json``, ``run.log`` and its artifacts.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import read_json
from clinicalnotebert.runner import execute

ERROR_PREFIX = b"error:"
LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"


def needs_own_process(cfg: DictConfig) -> bool:
    """Whether the stage's trainer would start processes of its own."""
    trainer = cfg.trainer
    devices = OmegaConf.select(trainer, "devices", default=1)
    one_device = str(devices) in ("1", "cpu") or devices == [0]
    return not one_device or trainer.get("num_nodes", 1) != 1


@contextlib.contextmanager
def stage_logging(stage_dir: Path):
    """The stage's own ``run.log`` beside the pipeline's, while it runs in this process."""
    handler = logging.FileHandler(stage_dir / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()


def run_here(name: str, cfg: DictConfig, args: list[str], stage_dir: Path) -> dict:
    """Run the stage in this process; its stdout (closing tables) goes to ``stdout.log``."""
    hydra_dir = stage_dir / ".hydra"
    hydra_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, hydra_dir / "config.yaml")
    OmegaConf.save(OmegaConf.create(args), hydra_dir / "overrides.yaml")
    with (
        stage_logging(stage_dir),
        open(stage_dir / "stdout.log", "w", encoding="utf-8") as out,
        contextlib.redirect_stdout(out),
    ):
        try:
            return execute(cfg)
        except UserError as exc:
            raise UserError(failure(name, str(exc), stage_dir)) from None


def failure(name: str, reason: str, stage_dir: Path) -> str:
    return f"stage '{name}' failed: {reason} (log: {stage_dir / 'run.log'})"


def forward_stderr(stream, errors: list[str]) -> None:
    """Copy a stage's stderr through as it comes (progress bars redraw in place) but for its
    ``error:`` lines, which are kept: the pipeline states the failure once, naming the stage."""
    pending = b""
    for chunk in iter(lambda: stream.read1(4096), b""):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if line.startswith(ERROR_PREFIX):
                errors.append(line[len(ERROR_PREFIX) :].decode(errors="replace").strip())
            else:
                sys.stderr.buffer.write(line + b"\n")
        if not (pending.startswith(ERROR_PREFIX) or ERROR_PREFIX.startswith(pending)):
            sys.stderr.buffer.write(pending)  # a partial line: a bar redrawn with "\r"
            pending = b""
        sys.stderr.flush()
    if pending.startswith(ERROR_PREFIX):
        errors.append(pending[len(ERROR_PREFIX) :].decode(errors="replace").strip())


def run_as_command(name: str, args: list[str], stage_dir: Path) -> dict:
    """Run the stage as ``python -m clinicalnotebert ARGS hydra.run.dir=<stage dir>``."""
    command = [sys.executable, "-m", "clinicalnotebert", *args, f"hydra.run.dir={stage_dir}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errors: list[str] = []
    reader = threading.Thread(target=forward_stderr, args=(process.stderr, errors), daemon=True)
    reader.start()
    with open(stage_dir / "stdout.log", "wb") as out:
        shutil.copyfileobj(process.stdout, out)
    process.wait()
    reader.join()
    if process.returncode != 0:
        reason = errors[-1] if errors else f"exit status {process.returncode}"
        raise UserError(failure(name, reason, stage_dir))
    return read_json(stage_dir / "metrics.json")
