"""``finetune.task=ner``: BIO token classification, first subword of each word labelled.

The reference truncated sentences at ``max_length`` subwords, so words past the limit were
neither trained on nor scored. Here a long sentence is split on word boundaries into windows of at
most ``max_length`` subwords, every word is predicted exactly once and the whole sentence is
scored; ``finetune.quirks.drop_long_sentences=true`` restores the reference's truncation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clinicalnotebert.finetune.metrics import entity_scores
from clinicalnotebert.finetune.readers import (
    TaggedSentence,
    find_split_files,
    first_examples,
    read_conll,
    read_tagged_dataset,
)
from clinicalnotebert.finetune.training import Context, Head, Outcome, Settings, train_head
from clinicalnotebert.models import IGNORE_INDEX
from clinicalnotebert.models.tokenizer import load_tokenizer

TAGGED_EXTENSIONS = (".tsv", ".conll", ".bio", ".iob", ".txt")


def read_tagged_splits(ft) -> dict[str, list[TaggedSentence]]:
    """CoNLL files in ``finetune.path``, or a saved ``DatasetDict`` there."""
    path = Path(ft.path)
    if (path / "dataset_dict.json").is_file():
        splits = read_tagged_dataset(path)
    else:
        files = find_split_files(path, TAGGED_EXTENSIONS, ft.files)
        splits = {split: read_conll(file) for split, file in files.items()}
    return first_examples(splits, ft.max_examples)


def tag_labels(sentences: Sequence[Sequence[str]]) -> list[str]:
    """``O`` first, then the B-/I- tags ordered by type."""
    tags = {tag for tags in sentences for tag in tags} - {"O"}
    return ["O", *sorted(tags, key=lambda tag: (tag[2:], tag[0]))]


def subword_counts(tokenizer, sentences: Sequence[Sequence[str]]) -> list[list[int]]:
    """Subwords per word (0 for a word the tokenizer turns into nothing)."""
    encoded = tokenizer(
        [list(words) for words in sentences], is_split_into_words=True, add_special_tokens=False
    )
    counts = []
    for index, words in enumerate(sentences):
        per_word = Counter(i for i in encoded.word_ids(index) if i is not None)
        counts.append([per_word.get(i, 0) for i in range(len(words))])
    return counts


def split_windows(counts: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """``(first word, word count)`` of consecutive windows of whole words with at most ``budget``
    subwords each; a word longer than the budget fills a window alone (its tail is cut)."""
    windows, start, used = [], 0, 0
    for index, count in enumerate(counts):
        size = min(max(count, 1), budget)
        if used + size > budget:
            windows.append((start, index - start))
            start, used = index, 0
        used += size
    if counts:
        windows.append((start, len(counts) - start))
    return windows


def truncated_window(counts: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """The reference: one window of the words whose first subword falls within ``budget``."""
    position, kept = 0, 0
    for count in counts:
        if position >= budget:
            break
        kept += 1
        position += max(count, 1)
    return [(0, kept)]


@dataclass
class EncodedSentences:
    """Windows of sentences as model features, and where each word's first subword sits."""

    features: list[dict]
    windows: list[tuple[int, int, int]]  # (sentence, first word, word count)
    first_subwords: list[list[int]]  # per window: position of each word's first subword
    scored_words: list[int]  # per sentence: words predicted (all, unless truncated)


def encode_sentences(
    tokenizer,
    sentences: Sequence[TaggedSentence],
    label_ids: dict[str, int],
    max_length: int,
    truncate: bool,
) -> EncodedSentences:
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
    counts = subword_counts(tokenizer, [s.tokens for s in sentences])
    windows = []
    for index, per_word in enumerate(counts):
        spans = truncated_window(per_word, budget) if truncate else split_windows(per_word, budget)
        windows += [(index, first, size) for first, size in spans]
    words = [
        [
            word if counts[s][w] else tokenizer.unk_token
            for w, word in enumerate(sentences[s].tokens[first : first + size], start=first)
        ]
        for s, first, size in windows
    ]
    encoded = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
    features, first_subwords = [], []
    for row, (s, first, _size) in enumerate(windows):
        positions = first_subword_positions(encoded.word_ids(row))
        labels = [IGNORE_INDEX] * len(encoded["input_ids"][row])
        for offset, position in enumerate(positions):
            labels[position] = label_ids[sentences[s].tags[first + offset]]
        feature = {key: encoded[key][row] for key in encoded if key != "attention_mask"}
        features.append({**feature, "labels": labels})
        first_subwords.append(positions)
    scored = [0] * len(sentences)
    for s, _first, size in windows:
        scored[s] += size
    return EncodedSentences(features, windows, first_subwords, scored)


def first_subword_positions(word_ids: Sequence[int | None]) -> list[int]:
    positions, previous = [], None
    for position, word in enumerate(word_ids):
        if word is not None and word != previous:
            positions.append(position)
        previous = word
    return positions


def predict_tags(head: Head, encoded: EncodedSentences, labels: list[str]) -> list[list[str]]:
    """Predicted tags of every scored word, sentence by sentence."""
    logits = head.predict(encoded.features, ("logits",), per_token=True)
    predicted = [["O"] * n for n in encoded.scored_words]
    for (s, first, _size), positions, (window_logits,) in zip(
        encoded.windows, encoded.first_subwords, logits, strict=True
    ):
        best = np.argmax(window_logits[positions], axis=-1)
        predicted[s][first : first + len(positions)] = [labels[i] for i in best]
    return predicted


def gold_tags(sentences: Sequence[TaggedSentence], scored: Sequence[int]) -> list[list[str]]:
    """Gold tags of the scored words (the whole sentence unless truncated)."""
    return [list(s.tags[:n]) for s, n in zip(sentences, scored, strict=True)]


class NerTask:
    """Token classification over CoNLL / DatasetDict splits; scored by entity-level F1."""

    def __init__(self, ctx: Context):
        ft = ctx.ft
        self.splits = read_tagged_splits(ft)
        self.labels = tag_labels([s.tags for split in self.splits.values() for s in split])
        self.tokenizer = load_tokenizer(ctx.encoder, "encoder.path")
        label_ids = {label: i for i, label in enumerate(self.labels)}
        truncate = bool(ft.quirks.drop_long_sentences)
        self.encoded = {
            split: encode_sentences(self.tokenizer, items, label_ids, ft.ner.max_length, truncate)
            for split, items in self.splits.items()
        }

    def data_stats(self) -> dict:
        return {
            split: {
                "sentences": len(self.splits[split]),
                "windows": len(encoded.windows),
                "unscored_words": sum(len(s.tokens) for s in self.splits[split])
                - sum(encoded.scored_words),
            }
            for split, encoded in self.encoded.items()
        }

    def fit(self, settings: Settings, ctx: Context) -> Outcome:
        from transformers import AutoModelForTokenClassification

        features = self.encoded["train"].features
        labels = self.labels
        head = train_head(
            AutoModelForTokenClassification, features, settings, ctx, self.tokenizer, "ner", labels
        )
        metrics: dict = {"train": {"loss": head.train_loss}}
        predictions = {}
        for split in ("dev", "test"):
            encoded = self.encoded[split]
            predictions[split] = predict_tags(head, encoded, self.labels)
            gold = gold_tags(self.splits[split], encoded.scored_words)
            metrics[split] = entity_scores(gold, predictions[split])
        rows = [{"sentence": i, "tags": tags} for i, tags in enumerate(predictions["test"])]
        return Outcome(metrics, head.save, rows, head)
