"""Test helpers: composed configs, in-process and CLI runs, the error contract."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def compose(overrides: list[str], output_dir: Path):
    """The config a command line would give, with the run dir set explicitly."""
    from hydra import initialize_config_dir

    from clinicalnotebert.composer import Composer
    from clinicalnotebert.config import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return Composer().compose([*overrides, f"paths.output_dir={output_dir}"])


def typed_config(cfg):
    """A composed config as the typed objects a stage receives (``clinicalnotebert.config.typed``)."""
    from clinicalnotebert.config import typed

    return typed(cfg)


def run_task(overrides: list[str], output_dir: Path) -> dict:
    """Run a task in this process (fast: no re-import of torch) and return its metrics."""
    from clinicalnotebert.__main__ import execute

    return execute(compose(overrides, output_dir))


def shared_dir(tmp_path_factory, name: str) -> Path:
    """A temp dir all pytest-xdist workers of this run share (one per run without xdist)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    path = root / name
    path.mkdir(exist_ok=True)
    return path


def shared_run(tmp_path_factory, name: str, overrides: list[str]) -> tuple[dict, Path]:
    """A task run once per test run, shared by the workers (the first one runs it, under a lock,
    and the others read it): (metrics, run dir)."""
    from clinicalnotebert.io import exclusive, read_json

    run_dir = shared_dir(tmp_path_factory, name)
    with exclusive(run_dir):
        if (run_dir / "metrics.json").is_file():
            return read_json(run_dir / "metrics.json"), run_dir
        return run_task(overrides, run_dir), run_dir


def run_cli(args: list[str], run_dir: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m clinicalnotebert ARGS hydra.run.dir=RUN_DIR`` as a user would run it, in a
    process of its own (DDP launchers, kills, the real interpreter start)."""
    command = [sys.executable, "-m", "clinicalnotebert", *args, f"hydra.run.dir={run_dir}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def run_main(args: list[str], run_dir: Path | None = None) -> subprocess.CompletedProcess:
    """The same command line through the entrypoint's ``main()`` in this process: the exit status
    and what it wrote to stdout and stderr, without the seconds an interpreter start costs."""
    import contextlib
    import io

    from clinicalnotebert.__main__ import main

    argv = ["clinicalnotebert", *args, *([f"hydra.run.dir={run_dir}"] if run_dir else [])]
    out, err = io.StringIO(), io.StringIO()
    saved, code = sys.argv, 0
    sys.argv = argv
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 2, one ``error:`` line on stderr naming what is wrong, and no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def last_json_line(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def save_random_bert(out: Path, vocab_size: int, layers: int, intermediate_size: int) -> Path:
    """A seeded random 128-wide, 2-head ``BertModel`` saved to ``out`` (tokenizer saved apart)."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=128,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=intermediate_size,
    )
    BertModel(config).save_pretrained(out)
    return out


VOCABULARY = (
    "patient admitted with chest pain shortness of breath fever cough denies nausea "
    "vomiting abdominal tenderness blood pressure heart rate oxygen saturation room air "
    "lungs clear bilaterally no edema plan continue aspirin heparin monitor telemetry "
    "follow up cardiology chest x ray shows no acute process small left effusion"
)
WORDS = VOCABULARY.split()


def clinical_sentences(count: int, seed: int = 0) -> list[str]:
    """Deterministic pseudo-clinical sentences to train the test tokenizers on."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.randint(6, 20))) + "." for _ in range(count)]
