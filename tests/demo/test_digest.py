"""Same seed, same files: the demo data are pinned by a digest over every generated file.

A refactoring of the generator must keep these digests; a deliberate change of the data must
update them (and bump ``GENERATOR_VERSION``, so that cached demo sets are regenerated).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from clinicalnotebert.demo import generate_demo


def digest(root: Path) -> str:
    """SHA-256 over each file's relative path and bytes, in path order (lengths framed)."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix().encode()
        data = path.read_bytes()
        h.update(len(name).to_bytes(8, "big") + name + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


@pytest.mark.parametrize(
    ("n_patients", "n_mimic4_notes", "seed", "expected"),
    [
        (40, 20, 5, "f149ddaed873370a16f74f2129fb5db79e3bcec5f33c3f1f8128a5c197d0d8b1"),
        # The default size and seed of conf/data/demo.yaml (about 2-3 s).
        (400, 300, 2024, "6c4e554aa3d95601f4acd4175cef0a6db0ada7cd91563f376a7fba1bc088bff7"),
    ],
)
def test_same_seed_gives_the_pinned_files(tmp_path, n_patients, n_mimic4_notes, seed, expected):
    root = generate_demo(
        tmp_path / "demo", n_patients=n_patients, n_mimic4_notes=n_mimic4_notes, seed=seed
    )
    assert digest(root) == expected
