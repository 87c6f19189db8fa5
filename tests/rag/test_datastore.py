"""Datastore chunks (docs/reference.md §5.2): segmenter segments in a word band, unique, longest first."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from clinicalnotebert.errors import UserError
from clinicalnotebert.rag.datastore import (
    ChunkWriter,
    WordBand,
    chunks_fingerprint,
    load_chunks,
    note_chunks,
    word_band,
)

NOTE = """Chief Complaint:
Chest pain radiating to the left arm since this morning with nausea.

History of Present Illness:
Seen by [**Last Name (NamePattern4) 1604**] in clinic.   He reports exertional pressure.
---
Plan: aspirin heparin and telemetry monitoring overnight then stress test."""


def test_note_chunks_by_hand():
    assert note_chunks(NOTE, WordBand(4, 6)) == [
        "Chief Complaint: Chest pain radiating to",  # title + one-line answer, cut to 6 words
        # "History of Present Illness:" has 4 words, not more than 4: dropped
        "Seen by Last Name in clinic.",  # de-identified, whitespace normalised
        "Plan: aspirin heparin and telemetry monitoring",
    ]


def test_separator_segments_are_never_chunks():
    # clean_deid leaves one '-' of '---'; the segmenter makes it a segment of its own.
    chunks = note_chunks("First line here.\n\n---\n\nSecond line here.", WordBand(0, 3))
    assert chunks == ["First line here.", "Second line here."]


def test_word_band_must_be_ordered():
    assert word_band(OmegaConf.create({"min_words": 16, "max_words": 128})) == WordBand(16, 128)
    with pytest.raises(UserError, match="rag.chunk_words"):
        word_band(OmegaConf.create({"min_words": 128, "max_words": 128}))


def test_writer_deduplicates_and_sorts_longest_first(tmp_path):
    writer = ChunkWriter(tmp_path / "staging")
    writer.add(["bb", "a", "dddd"])
    writer.add(["a", "ccc", "bb", "eeee"])
    assert writer.save(tmp_path / "chunks", None, 0) == 5
    chunks = load_chunks(tmp_path / "chunks")
    assert chunks.column_names == ["text"]
    assert list(chunks["text"]) == ["dddd", "eeee", "ccc", "bb", "a"]  # ties keep arrival order
    assert not (tmp_path / "staging").exists()


def test_writer_keeps_a_seeded_sample(tmp_path):
    texts = [f"chunk {'x' * i}" for i in range(50)]
    saved = []
    for run in range(2):
        writer = ChunkWriter(tmp_path / f"staging{run}")
        writer.add(texts)
        assert writer.save(tmp_path / f"chunks{run}", 10, seed=1) == 10
        saved.append(list(load_chunks(tmp_path / f"chunks{run}")["text"]))
    assert saved[0] == saved[1]
    assert set(saved[0]) < set(texts)


def test_fingerprint_names_content_and_order(tmp_path):
    prints = []
    for name, texts in (("a", ["x", "y"]), ("b", ["x", "y"]), ("c", ["y", "x"]), ("d", ["x", "z"])):
        writer = ChunkWriter(tmp_path / f"s-{name}")
        writer.add(texts)
        writer.save(tmp_path / name, None, 0)
        prints.append(chunks_fingerprint(load_chunks(tmp_path / name)))
    # Equal lengths keep arrival order, so "c" is stored in another order than "a".
    assert prints[0] == prints[1]
    assert len(set(prints)) == 3


def test_an_empty_datastore_saves_as_empty(tmp_path):
    writer = ChunkWriter(tmp_path / "staging")
    writer.add([])
    assert writer.save(tmp_path / "chunks", None, 0) == 0
    assert len(load_chunks(tmp_path / "chunks")) == 0
