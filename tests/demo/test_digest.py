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
        (40, 20, 5, "0616e028deffa1715d4508abd74317a4609352fecf9ddfe15f7cfb4b9984de37"),
        # The default size and seed of conf/data/demo.yaml (about 2-3 s).
        (400, 300, 2024, "d3866e85f1af5a14c87431780c7bfef1c4121124a5d2174a4cd6ee74b0062fbf"),
    ],
)
def test_same_seed_gives_the_pinned_files(tmp_path, n_patients, n_mimic4_notes, seed, expected):
    root = generate_demo(
        tmp_path / "demo", n_patients=n_patients, n_mimic4_notes=n_mimic4_notes, seed=seed
    )
    assert digest(root) == expected
