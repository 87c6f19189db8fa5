"""Read STS sentence pairs in the two layouts the project supports.

* ClinicalSTS: ``s1<TAB>s2<TAB>score`` per line.
* STS-B: ``genre<TAB>file<TAB>year<TAB>id<TAB>score<TAB>s1<TAB>s2`` with optional extra fields
  (source notes); quote characters are literal text, so lines are split on tabs only.

Blank lines are skipped. Any other malformed line is a :class:`UserError` naming ``file:line``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import text_lines

LAYOUTS = ("clinicalsts", "stsb")
# (fields needed, index of s1, s2, score) per layout; STS-B lines may carry more fields.
FIELDS = {"clinicalsts": (3, 0, 1, 2), "stsb": (7, 5, 6, 4)}
# A directory holds one file per split, named by layout.
SPLIT_FILES = {
    "clinicalsts": {"train": "train.txt", "dev": "dev.txt", "test": "test.txt"},
    "stsb": {"train": "sts-train.csv", "dev": "sts-dev.csv", "test": "sts-test.csv"},
}


@dataclass(frozen=True)
class Pairs:
    """Sentence pairs and their gold scores, aligned by index."""

    first: list[str]
    second: list[str]
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def subset(self, indices) -> Pairs:
        return Pairs(
            [self.first[i] for i in indices],
            [self.second[i] for i in indices],
            self.scores[list(indices)],
        )


def detect_layout(path: Path, layout: str = "auto") -> str:
    """``auto``: STS-B for ``.csv`` files (its release format), ClinicalSTS otherwise."""
    if layout == "auto":
        return "stsb" if path.suffix.lower() == ".csv" else "clinicalsts"
    if layout not in LAYOUTS:
        raise UserError(f"sts.layout '{layout}' is not one of auto, {', '.join(LAYOUTS)}")
    return layout


def parse_line(line: str, layout: str, where: str) -> tuple[str, str, float]:
    needed, first, second, score = FIELDS[layout]
    fields = line.split("\t")
    if len(fields) < needed or (layout == "clinicalsts" and len(fields) > needed):
        expected = "s1, s2, score" if layout == "clinicalsts" else "score in 5, s1 in 6, s2 in 7"
        raise UserError(
            f"{where}: expected {needed} tab-separated fields ({expected}) for the {layout} "
            f"layout, found {len(fields)}"
        )
    try:
        value = float(fields[score])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(f"{where}: field {score + 1} (the score) is not a number")
    return fields[first], fields[second], value


def read_pairs(path: str | Path, layout: str = "auto") -> Pairs:
    """All pairs of one file; ``layout`` is ``auto``, ``clinicalsts`` or ``stsb``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"STS file '{path}' does not exist")
    layout = detect_layout(path, layout)
    first, second, scores = [], [], []
    for number, raw in text_lines(path):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        s1, s2, score = parse_line(line, layout, f"{path}:{number}")
        first.append(s1)
        second.append(s2)
        scores.append(score)
    if not scores:
        raise UserError(f"STS file '{path}' has no sentence pairs")
    return Pairs(first, second, np.asarray(scores, dtype=np.float64))


def split_file(directory: Path, split: str, layout: str = "auto") -> Path:
    """The file of ``split`` (train/dev/test) in a ClinicalSTS or STS-B directory."""
    layouts = LAYOUTS if layout == "auto" else (detect_layout(directory, layout),)
    candidates = [directory / SPLIT_FILES[name][split] for name in layouts]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    names = " or ".join(c.name for c in candidates)
    raise UserError(f"sts.path '{directory}' has no {split} file ({names})")
