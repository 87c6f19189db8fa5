"""Fixtures of the fault matrix: small inputs that fail, and small ones that succeed quickly."""

from __future__ import annotations

import csv
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import clinical_sentences, run_task

CATEGORIES = ("Radiology", "Nursing", "Discharge summary", "Physician")


def write_notes_csv(path: Path, notes: int, sentences_per_note: int = 20, seed: int = 0) -> Path:
    """``category,text`` rows of pseudo-clinical sentences (no real note text)."""
    rng = random.Random(seed)
    sentences = clinical_sentences(notes * sentences_per_note, seed=seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "text"])
        for i in range(notes):
            chunk = sentences[i * sentences_per_note : (i + 1) * sentences_per_note]
            writer.writerow([rng.choice(CATEGORIES), " ".join(chunk)])
    return path


def csv_prepare_args(notes: Path, *extra: str) -> list[str]:
    """A quick ``task=prepare`` of a notes CSV with a 256-token vocabulary."""
    return [
        "task=prepare",
        "data=csv",
        f"data.path={notes}",
        "data.category_column=category",
        "tokenizer.vocab_size=200",
        "tokenizer.min_frequency=1",
        *extra,
    ]


@pytest.fixture(scope="session")
def notes_csv(tmp_path_factory) -> Path:
    return write_notes_csv(tmp_path_factory.mktemp("fault-notes") / "notes.csv", notes=150)


@pytest.fixture(scope="session")
def fault_prepare_run(notes_csv, tmp_path_factory) -> Path:
    """A finished ``task=prepare`` run of ``notes_csv`` (corpus/, tokenizer/, metrics.json)."""
    run_dir = tmp_path_factory.mktemp("fault-prepare")
    run_task(csv_prepare_args(notes_csv), run_dir)
    return run_dir


@pytest.fixture(scope="session")
def fault_corpus(fault_prepare_run) -> Path:
    return fault_prepare_run / "corpus"


@pytest.fixture(scope="session")
def sts_file(tmp_path_factory) -> Path:
    """A ClinicalSTS-layout file (``s1<TAB>s2<TAB>score``) of 40 pairs."""
    sentences = clinical_sentences(80, seed=3)
    rng = random.Random(3)
    lines = [
        f"{a}\t{b}\t{rng.uniform(0, 5):.1f}\n"
        for a, b in zip(sentences[::2], sentences[1::2], strict=True)
    ]
    path = tmp_path_factory.mktemp("fault-sts") / "dev.txt"
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has just ended: what a killed writer's debris is named after
    (fresh for each test, so that no new process can have taken it over meanwhile)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture(scope="session")
def cut_encoder(micro_encoder, tmp_path_factory) -> Path:
    """A copy of ``micro_encoder`` whose ``model.safetensors`` is cut off halfway."""
    out = tmp_path_factory.mktemp("cut-encoder") / "model"
    shutil.copytree(micro_encoder, out)
    weights = out / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    return out


@pytest.fixture(scope="session")
def fault_pretrain_run(fault_corpus, tmp_path_factory) -> Path:
    """A finished 2-step ``task=pretrain`` run on the fault corpus (checkpoints/last.ckpt,
    model/, metrics.json)."""
    run_dir = tmp_path_factory.mktemp("fault-pretrain")
    run_task(
        ["task=pretrain", "debug=fast", "seq=sentence", f"corpus.path={fault_corpus}"], run_dir
    )
    return run_dir
