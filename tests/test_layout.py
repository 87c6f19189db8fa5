"""The floor plan: one package per stage, data flowing one way (README, Development)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "clinicalnotebert"
# the stage packages, as the task configs name them (a new stage is covered without editing this)
STAGES = tuple(
    sorted(OmegaConf.load(path).package for path in (REPO / "conf" / "task").glob("*.yaml"))
)


def imported_modules(path: Path) -> set[str]:
    """Every ``clinicalnotebert...`` module a file imports (``from a.b import c`` counts a.b and
    a.b.c, as c may be a module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("clinicalnotebert")}


def top_level(module: str) -> str:
    """``clinicalnotebert.sts.evaluate`` -> ``sts``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def stage_imports() -> dict[str, set[str]]:
    """stage -> the modules of other stages and of the entrypoint that its files import."""
    found = {}
    for stage in STAGES:
        modules = set()
        for path in (PACKAGE / stage).rglob("*.py"):
            modules |= imported_modules(path)
        found[stage] = {m for m in modules if top_level(m) in {*STAGES, "__main__"} - {stage}}
    return found


def test_no_stage_imports_another_stages_task_or_the_entrypoint():
    offending = {
        stage: sorted(m for m in modules if m.endswith(".task") or m.endswith("__main__"))
        for stage, modules in stage_imports().items()
    }
    assert not any(offending.values()), offending


def test_stages_import_each_other_without_cycles():
    graph = {stage: {top_level(m) for m in modules} for stage, modules in stage_imports().items()}
    done: set[str] = set()

    def visit(stage: str, path: tuple[str, ...]) -> None:
        assert stage not in path, f"import cycle: {' -> '.join((*path, stage))}"
        if stage in done:
            return
        for other in graph[stage]:
            visit(other, (*path, stage))
        done.add(stage)

    for stage in STAGES:
        visit(stage, ())


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_package_exposes_run(stage):
    import importlib

    assert callable(importlib.import_module(f"clinicalnotebert.{stage}").run)


def test_using_a_stages_library_code_loads_no_task_module():
    """simcse scores with sts.evaluate and reads corpora with corpus.store: neither may load a
    task module (a fresh interpreter, as the test process has loaded them all)."""
    code = (
        "import sys, clinicalnotebert.simcse.module, clinicalnotebert.sts.evaluate, "
        "clinicalnotebert.corpus.store, clinicalnotebert.sts, clinicalnotebert.corpus\n"
        "print(sorted(m for m in sys.modules if m.endswith('.task')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
