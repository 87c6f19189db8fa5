"""Composing a pipeline's stage configs: Hydra's compose per stage against the shared composer.

Plans the stages of a pipeline experiment (default: the demo's 43), then composes every stage's
config both ways in this one process, each in a fresh composition cache, and prints the seconds
and their ratio; the configs must come out equal.

    .venv/bin/python benchmarks/compose_stages.py [--experiment demo]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from clinicalnotebert import composer
from clinicalnotebert.config import CONF_DIR, typed
from clinicalnotebert.pipeline.stages import plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="demo")
    experiment = f"experiment={parser.parse_args().experiment}"
    run_dir = Path("/tmp/compose-bench")
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        pipeline = compose(
            "config", overrides=["task=pipeline", experiment, f"paths.output_dir={run_dir}"]
        )
        stages = [
            [*s.args, experiment, "paths.output_dir=."] for s in plan(typed(pipeline), run_dir)
        ]
        started = time.perf_counter()
        plain = [compose("config", overrides=args) for args in stages]
        plain_s = time.perf_counter() - started
        composer.TREES.clear()
        started = time.perf_counter()
        shared = composer.Composer()
        composed = [shared.compose(args) for args in stages]
        shared_s = time.perf_counter() - started
    for one, other in zip(plain, composed, strict=True):
        assert OmegaConf.to_container(one) == OmegaConf.to_container(other)
    print(f"{len(stages)} stages, {len(composer.TREES)} compositions shared")
    print(
        f"compose per stage: {plain_s:.1f} s | composer: {shared_s:.1f} s | {plain_s / shared_s:.1f}x"
    )


if __name__ == "__main__":
    main()
