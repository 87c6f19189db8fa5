"""Deterministic synthetic MIMIC-style demo data: notes, linked tables, signals, STS and NER sets.

The project ships no real notes, so ``data=demo`` generates this dataset on first use:
:func:`generate_demo` writes every file (MIMIC-III tables, MIMIC-IV-Note files, MIMIC-Extract
dictionaries, STS pairs, a NER set and a README) and :func:`ensure_demo` does so once per cache
directory, under a lock, marked complete by ``DONE.json``.

Every random draw comes from a stream seeded by (seed, patient index), so the same arguments give
byte-identical files, and patient *i* is the same whatever ``n_patients`` is.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clinicalnotebert.demo import mimic3, mimic4, ner, sts
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import atomic_dir, read_json, write_json_atomic

# Bump on any change of the generated data, with the v<N> of conf/data/demo.yaml's root.
GENERATOR_VERSION = 3
DONE_FILE = "DONE.json"


def generate_demo(
    out_dir: str | Path, n_patients: int = 400, n_mimic4_notes: int = 300, seed: int = 2024
) -> Path:
    """Write the whole demo dataset to ``out_dir`` and return it.

    The files are written into a temporary sibling that replaces ``out_dir`` (if any) only once
    complete; ``DONE.json`` is written last. Same arguments, byte-identical files.
    """
    if n_patients < 1 or n_mimic4_notes < 1:
        raise UserError(
            f"demo generator: n_patients ({n_patients}) and n_mimic4_notes ({n_mimic4_notes}) "
            "must be positive"
        )
    out_dir = Path(out_dir)
    args = {"n_patients": n_patients, "n_mimic4_notes": n_mimic4_notes, "seed": seed}
    with atomic_dir(out_dir) as tmp:
        counts = mimic3.write_mimic3(tmp, n_patients, seed)
        counts.update(mimic4.write_mimic4_notes(tmp / "mimic4_note", n_mimic4_notes, seed))
        counts.update(sts.write_sts(tmp / "sts", seed))
        counts.update(ner.write_ner(tmp / "finetune" / "ner", seed))
        (tmp / "README.md").write_text(readme_text(args, counts), encoding="utf-8")
        write_json_atomic(tmp / DONE_FILE, done_record(args))  # last: marks the set complete
    return out_dir


def ensure_demo(data_cfg) -> Path:
    """Generate the demo dataset into ``data_cfg.root`` unless a complete one is already there."""
    args = {
        "n_patients": cfg_int(data_cfg, "n_patients"),
        "n_mimic4_notes": cfg_int(data_cfg, "n_mimic4_notes"),
        "seed": cfg_int(data_cfg, "generator_seed"),
    }
    root = Path(str(cfg_value(data_cfg, "root"))).expanduser()
    with generation_lock(root):
        if not is_complete_demo(root, args):
            generate_demo(root, **args)
    return root


def cfg_value(cfg, key: str) -> Any:
    try:
        value = cfg[key]
    except (KeyError, AttributeError, TypeError) as missing:
        raise UserError(
            f"config key 'data.{key}' is missing (needed by the demo generator)"
        ) from missing
    if value is None:
        raise UserError(f"config key 'data.{key}' is null (needed by the demo generator)")
    return value


def cfg_int(cfg, key: str) -> int:
    value = cfg_value(cfg, key)
    try:
        return int(value)
    except (TypeError, ValueError) as bad:
        raise UserError(f"config key 'data.{key}' must be an integer, got {value!r}") from bad


def done_record(args: dict) -> dict:
    return {"generator": __name__, "version": GENERATOR_VERSION, **args}


def is_complete_demo(root: Path, args: dict) -> bool:
    """True for a finished dataset made with ``args``; refuses to touch a foreign directory."""
    if not root.exists():
        return False
    marker = root / DONE_FILE
    if root.is_dir() and not any(root.iterdir()):
        return False
    if not marker.is_file():
        raise UserError(
            f"data.root '{root}' exists but is not a complete demo dataset (no {DONE_FILE}); "
            "delete it or point data.root elsewhere"
        )
    found = read_json(marker)
    if found != done_record(args):
        raise UserError(
            f"data.root '{root}' holds demo data made with other arguments ({marker}); "
            "delete it or point data.root elsewhere"
        )
    return True


@contextmanager
def generation_lock(root: Path) -> Iterator[None]:
    """Serialise generation between processes (multirun jobs, DDP ranks) sharing one cache."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def readme_text(args: dict, counts: dict[str, int]) -> str:
    rows = "\n".join(f"| `{path}` | {n} |" for path, n in sorted(counts.items()))
    return f"""# Synthetic clinical demo data

Everything here is **synthetic**: generated by `clinicalnotebert.demo.generator.generate_demo`
(version {GENERATOR_VERSION}) from the project's own word lists and templates. No real patient,
note or record was used. The tables follow the MIMIC-III / MIMIC-IV-Note layouts so that the
project's readers run on them unchanged, and outcomes (in-hospital death, ICU length of stay,
DRG) are driven by latent per-admission severity that the first day's notes and the hourly
signals both reveal, so the prediction tasks are learnable.

Generator arguments: n_patients={args["n_patients"]}, n_mimic4_notes={args["n_mimic4_notes"]}, seed={args["seed"]}.

| file | rows |
|---|---|
{rows}
"""
