"""What a run dir may hold after a failed or a rerun command: nothing half-written that loads as
complete, and complete artifacts that load."""

from __future__ import annotations

import re
from pathlib import Path

from clinicalnotebert.io import TEMP_PREFIXES
from tests.helpers import WORDS


def debris(root: Path) -> list[Path]:
    """Temporary siblings (``.tmp-*``, ``.old-*``) anywhere below ``root``."""
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.name.startswith(TEMP_PREFIXES)]


def load_corpus(path: Path) -> int:
    from clinicalnotebert.corpus.store import load_meta, load_variant

    meta = load_meta(path)
    return sum(len(load_variant(path, variant)) for variant in meta["variants"])


def load_model(path: Path) -> int:
    from clinicalnotebert.models.encoder import load_encoder

    tokenizer, model = load_encoder(str(path))
    return model.config.hidden_size


def load_tokenizer_dir(path: Path) -> int:
    from clinicalnotebert.models.tokenizer import load_tokenizer

    return len(load_tokenizer(str(path)))


def load_cohort_dir(path: Path) -> int:
    from clinicalnotebert.predict.cohorts import load_cohort

    return len(load_cohort(path, "mort_hosp", allow_pickle=False))


# artifact (relative to a run dir) -> how to load it whole
LOADERS = {
    "corpus": load_corpus,
    "tokenizer": load_tokenizer_dir,
    "model": load_model,
    "encoder": load_model,
    "cohort": load_cohort_dir,
}


def assert_loads(path: Path) -> None:
    assert path.exists(), path
    assert LOADERS[path.name](path), path


def assert_nothing_complete(run_dir: Path) -> None:
    """After a failed run: no ``metrics.json``, no temporary debris, and every artifact folder
    there is whole (a failed run leaves none half-written that could pass for complete)."""
    assert not (run_dir / "metrics.json").exists()
    assert not debris(run_dir), debris(run_dir)
    for name in LOADERS:
        if (run_dir / name).exists():
            assert_loads(run_dir / name)


def assert_no_note_text(line: str, run: int = 4) -> None:
    """Note text is PHI: an error line holds no ``run`` consecutive words of the test notes'
    vocabulary (``tests.helpers.WORDS``, which every note, sentence pair and corpus here is
    made of)."""
    vocabulary = set(WORDS)
    words = re.findall(r"[a-z]+", line.lower())
    for start in range(len(words) - run + 1):
        window = words[start : start + run]
        assert not all(word in vocabulary for word in window), (window, line)
