"""Words per second of the text-processing core, on one core, side by side per splitter.

    python benchmarks/bench_text_processing.py
    python benchmarks/bench_text_processing.py --csv notes.csv --column text \
        --splitter rules --splitter spacy:en_core_sci_sm

Two timings per splitter, best of --repeat runs: segment_note + the splitter on de-id-cleaned
notes, and split_note end to end (cleanup, segmenter, splitter, line cleaning). Words are the
whitespace tokens of the raw notes. The default notes are MTSamples from ../shared/data, whose
newlines became commas; each run also times them with section titles and list items put back on
lines of their own, the layout of MIMIC notes that the segmenter works on.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from clinicalnotebert.corpus.deid import clean_deid
from clinicalnotebert.corpus.note_texts import split_note
from clinicalnotebert.corpus.segmenter import segment_note
from clinicalnotebert.corpus.sentences import get_sentence_splitter

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared/data/mtsamples/mtsamples.csv.xz"
# ',TITLE:' and ',2. ' where the flattened transcriptions had a section break or a list item.
_FLATTENED_TITLE = re.compile(r",\s*(?=[A-Z][A-Z /&()-]+:)")
_FLATTENED_ITEM = re.compile(r",\s*(?=\d{1,2}\.\s)")


def on_lines(note: str) -> str:
    """The note with its flattened section titles and list items back on lines of their own."""
    return _FLATTENED_ITEM.sub("\n", _FLATTENED_TITLE.sub("\n\n", note))


def best_seconds(work: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--column", default="transcription")
    parser.add_argument("--splitter", action="append", help="rules (default) or spacy:<model>")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    stored = pd.read_csv(args.csv)[args.column].dropna().astype(str).tolist()
    words = sum(len(note.split()) for note in stored)
    print(
        f"{len(stored)} notes, {words} words, {sum(map(len, stored)) / 1e6:.1f} MB from {args.csv}"
    )
    splitters = {spec: get_sentence_splitter(spec) for spec in args.splitter or ["rules"]}
    for layout, notes in (("as stored", stored), ("on lines", [on_lines(n) for n in stored])):
        cleaned = [clean_deid(note) for note in notes]
        for spec, splitter in splitters.items():

            def segment_and_split(notes=cleaned, splitter=splitter):
                return [splitter(segment) for note in notes for segment in segment_note(note)]

            def end_to_end(notes=notes, splitter=splitter):
                return [split_note(note, splitter) for note in notes]

            for name, work in (
                ("segment_note+splitter", segment_and_split),
                ("split_note", end_to_end),
            ):
                seconds = best_seconds(work, args.repeat)
                rate = f"{words / seconds:>12,.0f} words/s ({seconds:.2f} s)"
                print(f"{layout:>9} {spec:>24} {name:>22}: {rate}")


if __name__ == "__main__":
    main()
