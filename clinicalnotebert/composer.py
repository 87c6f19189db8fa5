"""Many configs composed at once: a pipeline's stages, a sweep's jobs.

Hydra rebuilds the defaults tree (config groups, every YAML file they name) for each compose,
about half a second; the demo pipeline's 43 stages took 28 s before the first one started. The
stages share a handful of group choices (``task=``, ``model=``, ``seq=`` ...), so each set of
group choices is composed once and the rest of a stage's overrides (``encoder.path=...``) are
applied to a copy, with the function Hydra itself applies them with after composing: the config,
and any error message, are the ones a plain ``compose`` gives. The compositions are kept for the
life of the process (a sweep's check, then its jobs; a test session's many runs).
"""

from __future__ import annotations

import copy

from omegaconf import DictConfig, open_dict

# (config sources, group choices) -> the composed tree (without its ``hydra`` node) and its
# ``hydra.mode`` (None unless a config sets it: Hydra then runs one job, or a sweep under -m)
TREES: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[DictConfig, object]] = {}
# Values of the hydra node alone, which the composed tree drops: they neither shape the tree nor
# set a value in it (each command line names its own run dir: one tree per run dir otherwise).
RUN_DIRS = frozenset({"hydra.run.dir", "hydra.sweep.dir", "hydra.sweep.subdir"})


class Composer:
    """``compose("config", overrides)`` with one composition per set of group choices; use it
    inside Hydra's ``initialize_config_dir``."""

    def __init__(self) -> None:
        from hydra.core.global_hydra import GlobalHydra
        from hydra.core.override_parser.overrides_parser import OverridesParser

        self.repository = GlobalHydra.instance().config_loader().repository
        self.parser = OverridesParser.create()
        self.sources = tuple(source.full_path() for source in self.repository.get_sources())

    def shapes_tree(self, override) -> bool:
        """Whether Hydra would treat the override as a group choice (or cannot run it in one
        job): those decide the composition; any other sets a value afterwards."""
        if override.is_sweep_override() or override.is_hydra_override():
            return True
        is_group = self.repository.group_exists(override.key_or_group)
        return is_group and not isinstance(override.value(), dict)

    def compose(self, overrides: list[str]) -> DictConfig:
        from hydra._internal.config_loader_impl import ConfigLoaderImpl

        key, values = self.split(overrides)
        cfg = copy.deepcopy(TREES[key][0])
        ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        return cfg

    def run_mode(self, overrides: list[str]):
        """The ``hydra.mode`` these overrides compose to (what Hydra's ``get_mode`` reads)."""
        return TREES[self.split(overrides)[0]][1]

    def split(self, overrides: list[str]) -> tuple[tuple, list]:
        """The key of the overrides' tree (composed now if new) and the value overrides."""
        from hydra import compose

        choices, values = [], []
        for override in self.parser.parse_overrides(overrides):
            if override.key_or_group in RUN_DIRS and isinstance(override.value(), str):
                continue
            (choices if self.shapes_tree(override) else values).append(override)
        key = (self.sources, tuple(o.input_line for o in choices))
        if key not in TREES:
            # as hydra.compose(return_hydra_config=False) does, after reading hydra.mode
            cfg = compose("config", overrides=list(key[1]), return_hydra_config=True)
            mode = cfg.hydra.mode
            with open_dict(cfg):
                del cfg["hydra"]
            TREES[key] = (cfg, mode)
        return key, values
