"""task=pipeline: the stages of conf/pipeline (prepare ... report) as one resumable chain.

Each stage runs as its own ``python -m clinicalnotebert`` command in ``<run>/<stage>/``, exactly
what a user could type, so a stage gets a fresh process (memory returned, DDP launchers work)
and leaves a normal run dir. A stage with a ``metrics.json`` made by the same arguments is
skipped; a failed stage stops the chain with its own error and keeps what finished.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from clinicalnotebert.config import CONF_DIR, Config
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import read_json, write_json_atomic

log = logging.getLogger(__name__)
STAGE_FILE = "stage.json"


def user_overrides(cfg: Config) -> list[str]:
    """The pipeline's own command-line overrides, passed on to every stage."""
    from hydra.core.hydra_config import HydraConfig

    recorded = cfg.pipeline.overrides
    if recorded is not None:
        return list(recorded)
    if not HydraConfig.initialized():
        return []
    dropped = ("task=", "hydra.", "pipeline.")
    return [o for o in HydraConfig.get().overrides.task if not o.lstrip("+~").startswith(dropped)]


def stage_args(cfg: Config, run_dir: Path) -> dict[str, list[str]]:
    """Each stage's arguments with ``{stage}`` references resolved to run dirs."""
    stages = cfg.pipeline.stages
    names = list(cfg.pipeline.run or stages)
    unknown = [n for n in names if n not in stages]
    if unknown:
        raise UserError(f"pipeline.run: unknown stages {unknown} (known: {', '.join(stages)})")
    dirs = {name: str((run_dir / name).resolve()) for name in stages}
    dirs["pipeline"] = str(run_dir.resolve())
    try:
        return {name: [arg.format(**dirs) for arg in stages[name]] for name in names}
    except KeyError as exc:
        raise UserError(f"pipeline.stages: unknown stage reference {{{exc.args[0]}}}") from None


def is_done(stage_dir: Path, args: list[str]) -> bool:
    stage_file = stage_dir / STAGE_FILE
    return (
        (stage_dir / "metrics.json").is_file()
        and stage_file.is_file()
        and read_json(stage_file) == {"args": args}
    )


def prepare_stage_dir(stage_dir: Path, args: list[str]) -> None:
    """A dir made by other arguments is cleared (its checkpoints belong to another config); one
    made by the same arguments is kept, so a killed stage resumes from its checkpoints."""
    stage_file = stage_dir / STAGE_FILE
    if stage_dir.exists() and (not stage_file.is_file() or read_json(stage_file) != {"args": args}):
        shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(stage_file, {"args": args})


def forward_stderr(stream, errors: list[str]) -> None:
    """Copy a stage's stderr through (progress bars included) and keep its ``error:`` lines."""
    line = b""
    for chunk in iter(lambda: stream.read1(4096), b""):
        sys.stderr.buffer.write(chunk)
        sys.stderr.flush()
        for piece in (line + chunk).split(b"\n")[:-1]:
            if piece.startswith(b"error:"):
                errors.append(piece.decode(errors="replace")[len("error:") :].strip())
        line = (line + chunk).rsplit(b"\n", 1)[-1]


def run_stage(name: str, args: list[str], stage_dir: Path) -> dict:
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
        raise UserError(f"pipeline stage '{name}' failed: {reason} (run dir: {stage_dir})")
    return read_json(stage_dir / "metrics.json")


def check_stage_configs(stages: dict[str, list[str]]) -> None:
    """Compose every stage's config (dry run): a bad override fails here, before hours of work."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    saved = GlobalHydra.instance().hydra if GlobalHydra.instance().is_initialized() else None
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            for name, args in stages.items():
                try:
                    compose("config", overrides=args)
                except Exception as exc:  # Hydra raises several kinds; all mean a bad stage
                    raise UserError(
                        f"pipeline stage '{name}': {' '.join(str(exc).split())}"
                    ) from None
    finally:
        GlobalHydra.instance().clear()
        if saved is not None:
            GlobalHydra.instance().initialize(saved)


def unset_paths(stages: dict[str, list[str]]) -> list[str]:
    """Stage arguments built from a path left null (``finetune.path=None/mednli``)."""
    return [
        f"{name}: {arg}"
        for name, args in stages.items()
        for arg in args
        if "=" in arg and arg.split("=", 1)[1].split("/")[0] == "None"
    ]


def run(cfg: Config) -> dict:
    run_dir = Path(cfg.paths.output_dir)
    common = user_overrides(cfg)
    stages = {name: [*common, *args] for name, args in stage_args(cfg, run_dir).items()}
    check_stage_configs(stages)
    unset = unset_paths(stages)
    if cfg.pipeline.dry_run:
        for name, args in stages.items():
            print(
                f"{name}: python -m clinicalnotebert {' '.join(args)} hydra.run.dir={run_dir / name}"
            )
        for line in unset:
            print(f"unset path (give its data.* dir): {line}")
        return {"stages": len(stages), "dry_run": 1, "unset_paths": len(unset)}
    if unset:  # fail now, not after days of pretraining when the first such stage starts
        raise UserError(f"pipeline: stages need data paths that are not set: {'; '.join(unset)}")
    metrics: dict = {"stages": len(stages)}
    for position, (name, args) in enumerate(stages.items(), 1):
        stage_dir = run_dir / name
        if is_done(stage_dir, args):
            log.info("[%d/%d] %s: done before, skipped", position, len(stages), name)
            metrics[f"skipped.{name}"] = 1
            metrics[name] = read_json(stage_dir / "metrics.json")
            continue
        log.info("[%d/%d] %s: %s", position, len(stages), name, " ".join(args))
        prepare_stage_dir(stage_dir, args)
        started = time.perf_counter()
        metrics[name] = run_stage(name, args, stage_dir)
        metrics[f"seconds.{name}"] = round(time.perf_counter() - started, 1)
    write_json_atomic(run_dir / "stages.json", {name: args for name, args in stages.items()})
    return metrics
