"""task=pipeline: the stages of conf/pipeline (prepare ... report) as one resumable chain.

Each stage gets its own run dir ``<run>/<stage>/`` and exactly the arguments a user could type
(``stage.json`` records them, with a digest of the config they compose to). A stage whose
``metrics.json`` was made by the same arguments and config is skipped, so a rerun of a killed
pipeline resumes where it stopped; a failed stage stops the chain with one error naming it and
keeps what finished. Stages run in this process unless their trainer starts processes of its own
(``pipeline.isolation``, see ``launch``).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from clinicalnotebert.composer import Composer
from clinicalnotebert.config import CONF_DIR, Config
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import read_json, write_json_atomic
from clinicalnotebert.pipeline.evaluated import evaluated_models, unusable_checkpoints
from clinicalnotebert.pipeline.lanes import blocks, run_lanes
from clinicalnotebert.pipeline.launch import needs_own_process, run_as_command, run_here
from clinicalnotebert.pipeline.stages import Stage, plan, unset_paths

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


def stage_record(args: list[str], cfg: DictConfig) -> dict:
    """What makes a stage the same stage: its arguments and the config they compose to (so an
    edited YAML file reruns the stages it changes, though their command lines are unchanged)."""
    composed = OmegaConf.to_yaml(cfg).encode()
    return {"args": args, "config_sha256": hashlib.sha256(composed).hexdigest()}


def made_by(stage_dir: Path, record: dict) -> bool:
    stage_file = stage_dir / STAGE_FILE
    return stage_file.is_file() and read_json(stage_file) == record


def is_done(stage_dir: Path, record: dict) -> bool:
    return (stage_dir / "metrics.json").is_file() and made_by(stage_dir, record)


def prepare_stage_dir(stage_dir: Path, record: dict) -> None:
    """A dir made by other arguments or config is cleared (its checkpoints belong to another
    config); one made by the same is kept, so a killed stage resumes from its checkpoints."""
    if stage_dir.exists() and not made_by(stage_dir, record):
        shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(stage_dir / STAGE_FILE, record)


def compose_stages(stages: list[Stage], run_dir: Path) -> dict[str, DictConfig]:
    """Every stage's config, composed before the first stage runs: a bad override fails here,
    not after hours of pretraining."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    saved = GlobalHydra.instance().hydra if GlobalHydra.instance().is_initialized() else None
    GlobalHydra.instance().clear()
    composed = {}
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            composer = Composer()
            for stage in stages:
                where = f"paths.output_dir={(run_dir / stage.name).resolve()}"
                try:
                    composed[stage.name] = composer.compose([*stage.args, where])
                except Exception as exc:  # Hydra raises several kinds; all mean a bad stage
                    raise UserError(f"pipeline stage '{stage.name}': {one_line(exc)}") from None
    finally:
        GlobalHydra.instance().clear()
        if saved is not None:
            GlobalHydra.instance().initialize(saved)
    return composed


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def print_plan(stages: list[Stage], run_dir: Path, unset: list[str], unusable: list[str]) -> None:
    for stage in stages:
        command = " ".join(stage.args)
        print(
            f"{stage.name}: python -m clinicalnotebert {command} hydra.run.dir={run_dir / stage.name}"
        )
    for line in unset:
        print(f"unset path (give its data.* dir): {line}")
    for line in unusable:
        print(f"unusable checkpoint: {line}")


@dataclass(frozen=True)
class Step:
    """A planned stage with what running it needs: its place, config and run dir."""

    position: int
    total: int
    stage: Stage
    cfg: DictConfig
    stage_dir: Path
    isolation: str


def run_step(step: Step) -> dict:
    """Run (or skip, when done before with the same arguments and config) one stage; its
    metrics entries."""
    stage, where = step.stage, f"[{step.position}/{step.total}] {step.stage.name}"
    record = stage_record(stage.args, step.cfg)
    if is_done(step.stage_dir, record):
        log.info("%s: done before, skipped", where)
        return {f"skipped.{stage.name}": 1, stage.name: read_json(step.stage_dir / "metrics.json")}
    log.info("%s", where)
    prepare_stage_dir(step.stage_dir, record)
    started = time.perf_counter()
    if step.isolation == "process" or needs_own_process(step.cfg):
        metrics = run_as_command(stage.name, stage.args, step.stage_dir)
    else:
        metrics = run_here(stage.name, step.cfg, stage.args, step.stage_dir)
    return {stage.name: metrics, f"seconds.{stage.name}": round(time.perf_counter() - started, 1)}


def run(cfg: Config) -> dict:
    run_dir = Path(cfg.paths.output_dir)
    common = user_overrides(cfg)
    stages = [Stage(s.name, s.template, [*common, *s.args], s.model) for s in plan(cfg, run_dir)]
    models = evaluated_models(cfg.evaluate, cfg.zoo) if cfg.pipeline.per_encoder else []
    unusable = unusable_checkpoints(models, cfg.zoo)
    composed = compose_stages(stages, run_dir)
    unset = unset_paths(stages)
    if cfg.pipeline.dry_run:
        print_plan(stages, run_dir, unset, unusable)
        return {
            "stages": len(stages),
            "dry_run": 1,
            "unset_paths": len(unset),
            "unusable_checkpoints": len(unusable),
        }
    if unusable:  # an unusable model fails now, naming it, not when its first stage starts
        raise UserError(unusable[0])
    if unset:  # fail now, not after days of pretraining when the first such stage starts
        raise UserError(f"pipeline: stages need data paths that are not set: {'; '.join(unset)}")
    steps = [
        Step(n, len(stages), s, composed[s.name], run_dir / s.name, cfg.pipeline.isolation)
        for n, s in enumerate(stages, 1)
    ]
    metrics: dict = {"stages": len(stages)}
    for block in blocks(steps):
        if len(block) > 1 and cfg.pipeline.workers > 1:  # evaluated models side by side
            metrics.update(run_lanes(block, cfg.pipeline.workers, run_step))
        else:
            for lane in block:
                for step in lane:
                    metrics.update(run_step(step))
    write_json_atomic(run_dir / "stages.json", {s.name: s.args for s in stages})
    show_results(run_dir, stages)
    return metrics


def report_runs(runs_dir: Path, out_dir: Path) -> None:
    """Report every run under ``runs_dir`` into ``out_dir`` and print the table."""
    args = ["task=report", f"report.runs=[{runs_dir.resolve()}]"]
    stage = Stage("report", "report", args)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_here(stage.name, compose_stages([stage], out_dir.parent)[stage.name], args, out_dir)
    show_results(out_dir.parent, [stage])


def show_results(run_dir: Path, stages: list[Stage]) -> None:
    """The report stage's table: the pipeline's result a person reads."""
    for stage in stages:
        results = run_dir / stage.name / "results.md"
        if "task=report" in stage.args and results.is_file():
            print(results.read_text(encoding="utf-8"), flush=True)
