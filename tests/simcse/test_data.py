"""SimCSE lines: the reference's sample size, corpus ids or re-tokenised text, padding."""

from __future__ import annotations

import numpy as np

from clinicalnotebert.corpus.store import corpus_tokenizer, load_variant
from clinicalnotebert.models.tokenizer import load_tokenizer, save_tokenizer, train_wordpiece
from clinicalnotebert.simcse.data import (
    PadCollator,
    first_distinct,
    lines_needed,
    same_tokenizer,
    simcse_lines,
)


def test_lines_needed_is_the_reference_count_times_processes():
    # sentence: 128 x 1 x 1000 steps x fold 5 per process (docs/reference.md §3), two processes.
    assert lines_needed(128, 2, 1, 1000, 5) == 1_280_000
    assert lines_needed(32, 1, 4, 500, 10) == 640_000


def shuffled_rows(corpus, count: int, seed: int) -> list[dict]:
    """Independently: numpy's default generator permutes the rows (what datasets' shuffle uses)."""
    variant = load_variant(corpus, "sentence")
    order = np.random.default_rng(seed).permutation(len(variant))[:count]
    return [variant[int(i)] for i in order]


def test_corpus_ids_are_used_when_the_tokenizer_is_the_corpus_one(demo_corpus, micro_encoder):
    tokenizer = load_tokenizer(micro_encoder)  # a copy of the corpus tokenizer, saved elsewhere
    assert same_tokenizer(demo_corpus, tokenizer)
    lines = simcse_lines(demo_corpus, "sentence", tokenizer, 50, 128, seed=7)
    assert lines.column_names == ["input_ids"]
    assert [row["input_ids"] for row in lines] == [
        row["input_ids"] for row in shuffled_rows(demo_corpus, 50, 7)
    ]


def test_text_is_retokenised_for_another_tokenizer(demo_corpus, tmp_path):
    texts = [row["text"] for row in shuffled_rows(demo_corpus, 400, 0)]
    other = train_wordpiece(texts, vocab_size=256, min_frequency=1)
    save_tokenizer(other, tmp_path / "other")
    tokenizer = load_tokenizer(tmp_path / "other")
    assert not same_tokenizer(demo_corpus, tokenizer)
    lines = simcse_lines(demo_corpus, "sentence", tokenizer, 30, max_tokens=20, seed=3)
    expected = tokenizer(
        [row["text"] for row in shuffled_rows(demo_corpus, 30, 3)], truncation=True, max_length=20
    )["input_ids"]
    assert [row["input_ids"] for row in lines] == expected
    assert max(len(ids) for ids in expected) == 20  # the truncation did bite


def test_a_small_corpus_gives_all_its_lines(demo_corpus):
    tokenizer = load_tokenizer(corpus_tokenizer(demo_corpus))
    total = len(load_variant(demo_corpus, "note"))
    assert len(simcse_lines(demo_corpus, "note", tokenizer, 10**9, 512, seed=1)) == total


def test_pad_collator_pads_masks_and_truncates_keeping_sep():
    collate = PadCollator(pad_id=0, multiple=4, max_tokens=5)
    batch = collate([[2, 10, 11, 3], [2, 20, 21, 22, 23, 24, 3], [2, 3]])
    assert batch["input_ids"].tolist() == [
        [2, 10, 11, 3, 0, 0, 0, 0],
        [2, 20, 21, 22, 3, 0, 0, 0],
        [2, 3, 0, 0, 0, 0, 0, 0],
    ]
    assert batch["attention_mask"].tolist() == [
        [1, 1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0, 0],
        [1, 1, 0, 0, 0, 0, 0, 0],
    ]


def test_first_distinct_skips_repeated_texts():
    from datasets import Dataset

    lines = Dataset.from_dict({"text": ["a", "b", "a", "c", "b", "d", "e"]})
    assert first_distinct(lines, 4, chunk=3) == [0, 1, 3, 5]
    assert first_distinct(lines, 10) == [0, 1, 3, 5, 6]


def test_distinct_sampling_takes_the_first_unseen_texts(demo_corpus):
    tokenizer = load_tokenizer(corpus_tokenizer(demo_corpus))
    distinct = simcse_lines(demo_corpus, "sentence", tokenizer, 2000, 128, seed=5, distinct=True)
    seen, expected, repeats = set(), [], 0
    for row in shuffled_rows(demo_corpus, 10**9, 5):
        if row["text"] in seen:
            repeats += 1
            continue
        seen.add(row["text"])
        expected.append(row["input_ids"])
        if len(expected) == 2000:
            break
    assert [row["input_ids"] for row in distinct] == expected
    assert repeats > 0  # the demo notes do repeat lines, so the option changed the sample
