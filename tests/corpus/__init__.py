"""Tests of corpus preparation."""

from __future__ import annotations

from pathlib import Path


def mtsamples_notes(shared_data: Path) -> list[str]:
    """The 303 real transcriptions of the MTSamples note-type subset (newlines became commas)."""
    import pandas as pd

    frame = pd.read_csv(shared_data / "mtsamples" / "mtsamples_notetype_subset.csv")
    return frame["transcription"].dropna().tolist()
