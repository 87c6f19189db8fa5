"""The one entrypoint: ``python -m clinicalnotebert task=NAME key=value ...`` (or ``clinicalnotebert``).

Hydra composes ``conf/`` onto the typed schema (``clinicalnotebert.config``); :func:`execute`
checks the sections, calls ``run(cfg)`` of the stage package named by the task and writes the
flat ``metrics.json`` into the run dir. A bad command line is caught before Hydra starts (one
``error:`` line, exit 2), for every job of a sweep.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    InterpolationResolutionError,
    MissingMandatoryValue,
    OmegaConfBaseException,
)

from clinicalnotebert.composer import Composer
from clinicalnotebert.config import CONF_DIR, typed
from clinicalnotebert.errors import UserError
from clinicalnotebert.runner import execute
from clinicalnotebert.utils.runtime import is_rank_zero

MULTIRUN_FLAGS = ("-m", "--multirun")
JSON_FLAG = "--json"  # ours, not Hydra's: print metrics.json's contents instead of the table
OUTPUT = {"json": False}
# OmegaConf's wording of a value of the wrong type, and what a user should read instead
WRONG_TYPE = re.compile(
    r"Value '(.*)' (?:of type '\w+' could not be converted to (\w+)|is not a valid (bool))"
)
EXPECTED = {"Integer": "a whole number", "Float": "a number", "bool": "true or false"}


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


def config_problem(exc: BaseException) -> str:
    """One line for a composition error: the key and what is wrong with it."""
    cause = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    key = getattr(cause, "full_key", None)
    if isinstance(cause, ConfigKeyError | ConfigAttributeError) and key:
        return f"unknown config key '{key}'"
    if isinstance(cause, MissingMandatoryValue):
        return f"missing required config value '{key}' (set it: {key}=...)"
    if isinstance(cause, OmegaConfBaseException) and key:
        # OmegaConf appends full_key / object_type lines to its message: the first line says it
        first = str(cause.msg).splitlines()[0]
        wrong_type = WRONG_TYPE.match(first)
        if wrong_type:
            value, kind = wrong_type.group(1), wrong_type.group(2) or wrong_type.group(3)
            return f"{key}: expected {EXPECTED.get(kind, kind)} (got '{value}')"
        return f"{key}: {first}"
    return one_line(cause if isinstance(cause, UserError) else exc)


def job_prefix() -> str:
    """``job N: `` inside a sweep, so that a failed job is named."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        return f"job {HydraConfig.get().job.num}: "
    return ""


def report(cfg: DictConfig, metrics: dict[str, Any]) -> None:
    """The closing table (or, with ``--json``, the metrics as one JSON line) on stdout."""
    from clinicalnotebert.utils.console import print_summary

    if OUTPUT["json"]:
        print(json.dumps(metrics), flush=True)
    else:
        print_summary(cfg.task.name, metrics, Path(cfg.paths.output_dir), list(cfg.task.summary))


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def hydra_entry(cfg: DictConfig) -> float | None:
    try:
        metrics = execute(cfg)
        value = optimized_value(cfg, metrics)
    except (UserError, MissingMandatoryValue, InterpolationResolutionError) as exc:
        fail(job_prefix() + config_problem(exc))
    if is_rank_zero():
        report(cfg, metrics)
    return value


# ---- the command line, checked before Hydra starts --------------------------------------------


def sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """Each job's overrides, in Hydra's job order, for the basic sweeper: the config's
    ``hydra.sweeper.params`` first, then the command line. Sweeps that only a sampler can expand
    (Optuna's intervals) are left out: their trials get the base config's check."""
    from hydra import compose
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = parser.parse_overrides(overrides)
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    hydra_cfg = compose("config", overrides=fixed, return_hydra_config=True).hydra
    params = dict(hydra_cfg.sweeper.get("params") or {})
    if not str(hydra_cfg.sweeper.get("_target_", "")).endswith("BasicSweeper"):
        params = {}
    arguments = [f"{key}={value}" for key, value in params.items()] + overrides
    try:
        batches = BasicSweeper.split_arguments(parser.parse_overrides(arguments), None)
    except Exception:  # a sweep type only a sampler understands
        return [fixed]
    return [job for batch in batches for job in batch]


def check_command_line(overrides: list[str], multirun: bool):
    """Compose and check every job's config, so that a bad override is one ``error:`` line;
    return the configs' ``hydra.mode``.

    Hydra reports composition errors as a multi-line message with exit status 1; the contract
    is one line and status 2, in a single run and in each job of a sweep alike.
    """
    from hydra import initialize_config_dir
    from hydra.errors import HydraException, MissingConfigException

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        composer = Composer()
        try:
            jobs = sweep_jobs(overrides) if multirun else [overrides]
        except (HydraException, OmegaConfBaseException, ValueError) as exc:
            fail(f"bad command line: {config_problem(exc)}")
        for number, job in enumerate(jobs):
            shown = " ".join(o for o in job if not o.startswith("hydra."))
            prefix = f"job {number} ({shown}): " if multirun else ""
            try:
                # paths.output_dir is Hydra's run dir, unknown before Hydra runs
                typed(composer.compose([*job, "paths.output_dir=."]))
            except MissingConfigException as exc:
                group, _, value = (exc.missing_cfg_file or "config").rpartition("/")
                hint = f" (choose from: {', '.join(sorted(exc.options))})" if exc.options else ""
                fail(f"{prefix}unknown {group or 'config'} '{value}'{hint}")
            except (HydraException, OmegaConfBaseException, UserError, ValueError) as exc:
                fail(f"{prefix}{config_problem(exc)}")
        # job 0's tree, composed above: paths.output_dir sets a value, it chooses no tree
        return composer.run_mode(jobs[0])


@contextlib.contextmanager
def known_run_mode(mode):
    """Hydra composes the whole config a first time only to read ``hydra.mode`` (half a second
    of every start); the check above has just read it."""
    from hydra._internal.hydra import Hydra

    composing = getattr(Hydra, "get_mode", None)
    if composing is None:  # a Hydra that reads the mode another way: let it
        yield
        return
    Hydra.get_mode = lambda self, config_name, overrides: mode
    try:
        yield
    finally:
        Hydra.get_mode = composing


def main() -> None:
    OUTPUT["json"] = JSON_FLAG in sys.argv
    sys.argv = [arg for arg in sys.argv if arg != JSON_FLAG]  # Hydra would refuse it
    args = sys.argv[1:]
    flags = [arg for arg in args if arg.startswith("-")]
    if not all(flag in MULTIRUN_FLAGS for flag in flags):  # other Hydra flags: Hydra's own
        hydra_entry()
        return
    mode = check_command_line([arg for arg in args if arg not in flags], multirun=bool(flags))
    with known_run_mode(mode):
        hydra_entry()


if __name__ == "__main__":
    main()
