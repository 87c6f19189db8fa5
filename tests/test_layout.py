"""The floor plan: one package per stage, data flowing one way (README, Development)."""

from __future__ import annotations

import ast
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
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= imported_modules_of(node)
    return names


def imported_modules_of(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    else:
        names = {node.module or "", *(f"{node.module}.{alias.name}" for alias in node.names)}
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


def module_path(module: str) -> Path | None:
    """The file of a ``clinicalnotebert...`` module (None for a name that is not a module)."""
    base = REPO.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def eager_imports(path: Path) -> set[str]:
    """The ``clinicalnotebert`` modules a file imports when it is imported: module-level import
    statements (inside ``if``/``try`` too), not those in function bodies or TYPE_CHECKING."""
    names: set[str] = set()
    pending = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= imported_modules_of(node)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return names


def loaded_by_importing(*modules: str) -> set[str]:
    """Every project module that importing ``modules`` loads: each module's packages first
    (``import a.b.c`` runs ``a`` and ``a.b``), then what each loaded file imports eagerly."""
    loaded: set[str] = set()
    pending = list(modules)
    while pending:
        parts = pending.pop().split(".")
        for depth in range(1, len(parts) + 1):
            name = ".".join(parts[:depth])
            path = module_path(name)
            if name in loaded or path is None:
                continue
            loaded.add(name)
            pending.extend(eager_imports(path))
    return loaded


def test_using_a_stages_library_code_loads_no_task_module():
    """simcse scores with sts.evaluate and reads corpora with corpus.store: neither may load a
    task module (read from the import statements that run at import time)."""
    loaded = loaded_by_importing(
        "clinicalnotebert.simcse.module",
        "clinicalnotebert.sts.evaluate",
        "clinicalnotebert.corpus.store",
    )
    assert {"clinicalnotebert.sts", "clinicalnotebert.corpus.store"} <= loaded
    assert sorted(m for m in loaded if m.endswith(".task")) == []


def test_the_import_reader_sees_eager_imports_only():
    """Module-level imports and the packages above a module count; an import inside a function
    does not: the sweep report's callback imports the pipeline's task when a sweep ends."""
    loaded = loaded_by_importing("clinicalnotebert.pipeline.sweep_report")
    assert {"clinicalnotebert", "clinicalnotebert.pipeline", "clinicalnotebert.errors"} <= loaded
    assert "clinicalnotebert.pipeline.task" not in loaded
    assert "clinicalnotebert.pipeline.lanes" in loaded_by_importing(
        "clinicalnotebert.pipeline.task"
    )
