"""The one entrypoint: ``python -m clinicalnotebert task=NAME key=value ...`` (or ``clinicalnotebert``).

Hydra composes ``conf/``; :func:`execute` calls ``run(cfg)`` of the stage package named by the task,
writes the flat ``metrics.json`` into the run dir and prints it as the last line.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, ListConfig
from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue

from clinicalnotebert.config import CONF_DIR
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import flatten_metrics, write_json_atomic
from clinicalnotebert.utils.runtime import is_rank_zero


def execute(cfg: DictConfig) -> dict[str, Any]:
    """Run the task named by ``cfg.task.name`` and write its ``metrics.json``; return the metrics."""
    from clinicalnotebert.utils.runtime import finish_trackers, seed_everything

    seed_everything(cfg.seed)
    module = importlib.import_module(f"clinicalnotebert.{cfg.task.package}")
    metrics_file = Path(cfg.paths.output_dir) / "metrics.json"
    if is_rank_zero():  # a rerun in the same dir: old scores must not outlive a failed rerun
        metrics_file.unlink(missing_ok=True)
    try:
        metrics = flatten_metrics(module.run(cfg) or {})
    finally:
        finish_trackers()
    if is_rank_zero():
        write_json_atomic(metrics_file, metrics)
    return metrics


def optimized_value(cfg: DictConfig, metrics: dict[str, Any]) -> float | None:
    """The value a sweeper (Optuna) optimises: ``metrics[cfg.optimized_metric]``."""
    key = cfg.get("optimized_metric")
    if not key:
        return None
    if key not in metrics:
        raise UserError(f"optimized_metric '{key}' is not among the metrics: {sorted(metrics)}")
    return float(metrics[key])


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def hydra_entry(cfg: DictConfig) -> float | None:
    try:
        metrics = execute(cfg)
        value = optimized_value(cfg, metrics)
    except UserError as exc:
        fail(one_line(exc))
    except MissingMandatoryValue as exc:
        fail(
            f"missing required config value '{exc.full_key}' (set it on the command line: {exc.full_key}=...)"
        )
    except InterpolationResolutionError as exc:
        fail(f"config value '{exc.full_key}' cannot be resolved: {one_line(exc)}")
    if is_rank_zero():
        print(json.dumps(metrics), flush=True)
    return value


# Stage sections whose numbers and flags are checked against their defaults' types (trainer,
# logger and hydra keys take mixed types, e.g. trainer.devices=auto).
TYPED_SECTIONS = (
    "prepare", "tokenizer", "pretrain", "simcse", "sts", "rag", "predict", "finetune", "report",
    "pipeline", "model", "objective", "seq", "data",
)  # fmt: skip


def override_key(override: str) -> str:
    return override.split("=", 1)[0]


def is_value_override(cfg: DictConfig, override: str) -> bool:
    """``section.key=value`` that sets a scalar of a stage section (not a group choice)."""
    from omegaconf import OmegaConf

    key = override_key(override)
    if "=" not in override or key.startswith(("+", "~")) or "/" in key:
        return False
    if key.split(".")[0] not in TYPED_SECTIONS or "." not in key:
        return False
    value = OmegaConf.select(cfg, key, throw_on_resolution_failure=False)
    return not isinstance(value, DictConfig | ListConfig)


def check_value_types(cfg: DictConfig, defaults: DictConfig, overrides: list[str]) -> None:
    """A number or flag given as text (``rag.k=abc``) fails here, not as a TypeError mid-run."""
    from omegaconf import OmegaConf

    for override in overrides:
        key = override_key(override)
        default = OmegaConf.select(defaults, key, throw_on_resolution_failure=False)
        value = OmegaConf.select(cfg, key, throw_on_resolution_failure=False)
        if value is None or default is None:
            continue
        if isinstance(default, bool) and not isinstance(value, bool):
            fail(f"{key}: expected true or false")
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        if numeric and (isinstance(value, bool) or not isinstance(value, int | float)):
            fail(f"{key}: expected a number")


def validate_overrides(overrides: list[str]) -> None:
    """Compose the config once before Hydra runs, so that a bad override is one ``error:`` line.

    Hydra reports composition errors as a multi-line message with exit status 1; the contract
    is one line and status 2. Sweeps (``-m``) and Hydra flags are left to Hydra itself.
    """
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException, MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
            plain = [o for o in overrides if is_value_override(cfg, o)]
            if plain:  # a second composition only when there are values to check
                groups = [o for o in overrides if o not in plain]
                defaults = compose(config_name="config", overrides=groups)
                check_value_types(cfg, defaults, plain)
    except MissingConfigException as exc:
        group, _, value = (exc.missing_cfg_file or "config").rpartition("/")
        hint = f" (choose from: {', '.join(sorted(exc.options))})" if exc.options else ""
        fail(f"unknown {group or 'config'} '{value}'{hint}")
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        fail(f"bad command line: {one_line(exc)}")


def main() -> None:
    args = sys.argv[1:]
    if not any(arg.startswith("-") for arg in args):
        validate_overrides(args)
    hydra_entry()


if __name__ == "__main__":
    main()
