"""The plan of a pipeline run: which stages, in which order, with which arguments.

``pipeline.stages`` run first, then ``pipeline.per_encoder`` once for each evaluated model (in
``<run>/<model>/<stage>``, with ``encoder.name=<model>`` so the report names its row), then
``pipeline.closing``. In a stage argument ``{name}`` is the run dir of stage ``name`` (``{pipeline}``:
the pipeline's own); in a per-encoder stage ``{encoder.<column>}`` is the evaluated model's
checkpoint for that column and ``{model}`` its folder (``{model}/simcse_note/encoder``: the
encoder its own ``simcse_note`` stage made).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from clinicalnotebert.config import Config
from clinicalnotebert.errors import UserError
from clinicalnotebert.pipeline.evaluated import EvaluatedModel, evaluated_models

REFERENCE = re.compile(r"\{(\w+)\}")  # {stage}: that stage's run dir
COLUMN_REFERENCE = re.compile(r"\{encoder\.(\w+)\}")  # {encoder.sts}: a column's checkpoint


@dataclass(frozen=True)
class Stage:
    name: str  # "pretrain", or "<model>/<stage>" for an evaluated model's stage
    template: str  # the name in conf/pipeline ("sts" for every model's "<model>/sts")
    args: list[str]
    model: str | None = None  # the evaluated model's folder, for its stages


def resolve_references(arg: str, dirs: dict[str, str], stage: str) -> str:
    """``{name}`` -> that stage's run dir. Other braces are the argument's own (a dict value such
    as ``report.labels={a: b}``); a bare ``{word}`` that names no stage is a typo."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in dirs:
            raise UserError(
                f"pipeline stage '{stage}': '{{{name}}}' names no stage "
                f"(stage references: {', '.join(sorted(dirs))})"
            )
        return dirs[name]

    return REFERENCE.sub(replace, arg)


def model_stage(template: str, args: list[str], model: EvaluatedModel) -> Stage | None:
    """A per-encoder stage for ``model``; None when it needs a column the model has no
    checkpoint for (a model released for fine-tuning only has no STS run)."""
    filled = []
    for arg in args:
        columns = COLUMN_REFERENCE.findall(arg)
        unknown = [c for c in columns if c not in model.checkpoints]
        if unknown:
            raise UserError(
                f"pipeline.per_encoder.{template}: '{{encoder.{unknown[0]}}}' is not a column "
                f"(columns: {', '.join(model.checkpoints)})"
            )
        if any(model.checkpoints[c] is None for c in columns):
            return None
        filled.append(COLUMN_REFERENCE.sub(lambda m: str(model.checkpoints[m.group(1)]), arg))
    name_arg = f"encoder.name={model.name}"
    return Stage(f"{model.folder}/{template}", template, [*filled, name_arg], model.folder)


def all_stages(cfg: Config) -> list[Stage]:
    pipeline = cfg.pipeline
    planned = [Stage(name, name, list(args)) for name, args in pipeline.stages.items()]
    models = evaluated_models(cfg.evaluate, cfg.zoo) if pipeline.per_encoder else []
    for model in models:
        for template, args in pipeline.per_encoder.items():
            stage = model_stage(template, list(args), model)
            planned += [stage] if stage else []
    baselines = [model.name for model in models if model.baseline]
    for name, args in pipeline.closing.items():
        report = "task=report" in args and baselines  # the report marks the baseline rows
        extra = [f"report.baseline=[{','.join(baselines)}]"] if report else []
        planned.append(Stage(name, name, [*args, *extra]))
    return planned


def selected(planned: list[Stage], run: list[str] | None) -> list[Stage]:
    """``pipeline.run``: stage names (or per-encoder template names) to run, in that order."""
    if not run:
        return planned
    unknown = [n for n in run if not any(n in (s.name, s.template) for s in planned)]
    if unknown:
        known = ", ".join(dict.fromkeys(s.template for s in planned))
        raise UserError(f"pipeline.run: unknown stages {unknown} (known: {known})")
    return [stage for name in run for stage in planned if name in (stage.name, stage.template)]


def plan(cfg: Config, run_dir: Path) -> list[Stage]:
    """The stages to run with their ``{references}`` resolved to run dirs."""
    planned = all_stages(cfg)
    dirs = {stage.name: str((run_dir / stage.name).resolve()) for stage in planned}
    dirs["pipeline"] = str(run_dir.resolve())
    resolved = []
    for stage in selected(planned, cfg.pipeline.run):
        known = {**dirs, "model": str((run_dir / stage.model).resolve())} if stage.model else dirs
        args = [resolve_references(arg, known, stage.name) for arg in stage.args]
        resolved.append(Stage(stage.name, stage.template, args, stage.model))
    return resolved


def unset_paths(stages: list[Stage]) -> list[str]:
    """Stage arguments built from a path left null (``finetune.path=None/mednli``)."""
    return [
        f"{stage.name}: {arg}"
        for stage in stages
        for arg in stage.args
        if "=" in arg and arg.split("=", 1)[1].split("/")[0] == "None"
    ]
