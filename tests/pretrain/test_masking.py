"""The whole-word-masking collator against an independent, per-token reading of docs/reference.md §2.1."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clinicalnotebert.config import MaskingConfig
from clinicalnotebert.corpus.store import load_variant
from clinicalnotebert.models import IGNORE_INDEX
from clinicalnotebert.pretrain.data import CorpusRows
from clinicalnotebert.pretrain.masking import WholeWordMasker

SETTINGS = MaskingConfig(mask_token_ratio=0.8, random_token_ratio=0.1, max_predictions=512)


@pytest.fixture(scope="module")
def tokenizer(minilm_dir):
    """bert-base-uncased's vocabulary (via MiniLM) splits many demo words into '##' pieces."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(minilm_dir))


@pytest.fixture(scope="module")
def sequences(minilm_corpus) -> list[np.ndarray]:
    """1,000 demo sentences tokenised by ``tokenizer``, as stored (with [CLS]/[SEP])."""
    dataset = load_variant(minilm_corpus, "sentence")
    return CorpusRows(dataset, False).gather(np.arange(len(dataset)))[0]


def words_of(tokens: list[str], specials: set[str]) -> list[list[int]]:
    """docs/reference.md §2.1 read literally: skip specials; a '##' token joins the word before it."""
    words: list[list[int]] = []
    for i, token in enumerate(tokens):
        if token in specials:
            continue
        if words and token.startswith("##"):
            words[-1].append(i)
        else:
            words.append([i])
    return words


def masked_batches(sequences, masker, seed=0, size=32):
    rng = np.random.default_rng(seed)
    for start in range(0, len(sequences), size):
        chunk = sequences[start : start + size]
        yield chunk, masker(chunk, rng)


def test_masks_whole_words_only_never_specials_or_pads(sequences, tokenizer):
    masker = WholeWordMasker(tokenizer, SETTINGS, 0.15, pad_to_multiple_of=8)
    specials = set(tokenizer.all_special_tokens)
    split_words = 0
    for chunk, batch in masked_batches(sequences, masker):
        labels = batch["labels"].numpy()
        for row, ids in enumerate(chunk):
            tokens = tokenizer.convert_ids_to_tokens(ids.tolist())
            chosen = labels[row] != IGNORE_INDEX
            assert not chosen[len(ids) :].any(), "a pad position was masked"
            assert not any(chosen[i] for i, t in enumerate(tokens) if t in specials)
            np.testing.assert_array_equal(
                labels[row][: len(ids)][chosen[: len(ids)]], ids[chosen[: len(ids)]]
            )
            for word in words_of(tokens, specials):
                assert len({bool(chosen[i]) for i in word}) == 1, (tokens, word)
                split_words += len(word) > 1 and bool(chosen[word[0]])
    assert split_words > 100  # multi-piece words were masked, and whole


def test_budget_is_met_greedily(sequences, tokenizer):
    """At most the budget; and every word left unmasked is larger than what the budget had left."""
    masker = WholeWordMasker(tokenizer, SETTINGS, 0.15)
    specials = set(tokenizer.all_special_tokens)
    for chunk, batch in masked_batches(sequences, masker, seed=3):
        labels = batch["labels"].numpy()
        for row, ids in enumerate(chunk):
            budget = min(512, max(1, round(len(ids) * 0.15)))
            chosen = labels[row][: len(ids)] != IGNORE_INDEX
            left = budget - int(chosen.sum())
            assert left >= 0
            tokens = tokenizer.convert_ids_to_tokens(ids.tolist())
            for word in words_of(tokens, specials):
                if not chosen[word[0]]:
                    assert len(word) > left


@pytest.mark.parametrize("probability", [0.15, 0.3])
def test_masking_rate_is_near_p(sequences, tokenizer, probability):
    masker = WholeWordMasker(tokenizer, SETTINGS, probability)
    masked = sum(int(b["masked_positions"].numel()) for _, b in masked_batches(sequences, masker))
    tokens = sum(len(s) for s in sequences)
    assert abs(masked / tokens - probability) < 0.01


def test_replacement_is_80_10_10_and_never_special(sequences, tokenizer):
    masker = WholeWordMasker(tokenizer, SETTINGS, 0.15)
    special_ids = set(tokenizer.all_special_ids)
    counts = {"mask": 0, "same": 0, "random": 0}
    for _, batch in masked_batches(sequences * 3, masker, seed=11):
        positions = batch["masked_positions"]
        given = batch["input_ids"].flatten()[positions]
        target = batch["labels"].flatten()[positions]
        is_mask = given == tokenizer.mask_token_id
        counts["mask"] += int(is_mask.sum())
        counts["same"] += int((given == target).sum())
        replaced = given[~is_mask & (given != target)]
        counts["random"] += len(replaced)
        assert not set(replaced.tolist()) & special_ids
    total = sum(counts.values())
    assert abs(counts["mask"] / total - 0.8) < 0.02
    # a random draw may hit the original token (1 in ~30,000 here): counted as unchanged
    assert abs(counts["random"] / total - 0.1) < 0.015
    assert abs(counts["same"] / total - 0.1) < 0.015


def test_batch_layout(demo_corpus, demo_tokenizer):
    """Stored uint16 ids (the demo corpus) come out as padded int64 tensors."""
    dataset = load_variant(demo_corpus, "segment")
    chunk, _ = CorpusRows(dataset, False).gather(np.arange(5))
    assert chunk[0].dtype == np.uint16
    masker = WholeWordMasker(demo_tokenizer, SETTINGS, 0.15, pad_to_multiple_of=8)
    batch = masker(chunk, np.random.default_rng(0))
    longest = max(len(s) for s in chunk)
    assert batch["input_ids"].dtype == torch.int64
    assert batch["input_ids"].shape == (5, -(-longest // 8) * 8)
    expected_mask = np.zeros(batch["input_ids"].shape, dtype=np.int64)
    for row, ids in enumerate(chunk):
        expected_mask[row, : len(ids)] = 1
        # unmasked positions keep their ids; pads are [PAD]
        keep = batch["labels"][row, : len(ids)].numpy() == IGNORE_INDEX
        np.testing.assert_array_equal(batch["input_ids"][row, : len(ids)].numpy()[keep], ids[keep])
        assert (batch["input_ids"][row, len(ids) :] == demo_tokenizer.pad_token_id).all()
    np.testing.assert_array_equal(batch["attention_mask"].numpy(), expected_mask)
    np.testing.assert_array_equal(
        batch["masked_positions"].numpy(), np.flatnonzero(batch["labels"].numpy() != IGNORE_INDEX)
    )
    assert batch["real_tokens"] == sum(len(s) for s in chunk)
    assert batch["padded_tokens"] == batch["input_ids"].numel()


def test_same_seed_same_masks(sequences, tokenizer):
    masker = WholeWordMasker(tokenizer, SETTINGS, 0.15)
    chunk = sequences[:16]
    first = masker(chunk, np.random.default_rng(5))
    again = masker(chunk, np.random.default_rng(5))
    other = masker(chunk, np.random.default_rng(6))
    assert torch.equal(first["input_ids"], again["input_ids"])
    assert torch.equal(first["labels"], again["labels"])
    assert not torch.equal(first["labels"], other["labels"])
