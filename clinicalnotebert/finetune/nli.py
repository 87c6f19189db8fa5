"""``finetune.task=nli``: sentence-pair classification (MedNLI layout), scored by accuracy and F1."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from clinicalnotebert.finetune.metrics import classification_scores
from clinicalnotebert.finetune.readers import (
    SentencePair,
    find_split_files,
    first_examples,
    read_sentence_pairs,
)
from clinicalnotebert.finetune.training import Context, Outcome, Settings, train_head
from clinicalnotebert.models.tokenizer import load_tokenizer

PAIR_EXTENSIONS = (".jsonl", ".json")


def encode_pairs(
    tokenizer, pairs: Sequence[SentencePair], label_ids: dict[str, int], max_length: int
) -> list[dict]:
    encoded = tokenizer(
        [p.sentence1 for p in pairs],
        [p.sentence2 for p in pairs],
        truncation=True,
        max_length=max_length,
    )
    keys = [key for key in encoded if key != "attention_mask"]
    return [
        {**{key: encoded[key][i] for key in keys}, "labels": label_ids[pair.label]}
        for i, pair in enumerate(pairs)
    ]


class NliTask:
    """``sentence1`` / ``sentence2`` / ``gold_label`` JSONL; labels in ``finetune.nli.labels``."""

    def __init__(self, ctx: Context):
        ft = ctx.ft
        self.labels = list(ft.nli.labels)
        files = find_split_files(Path(ft.path), PAIR_EXTENSIONS, ft.files)
        splits = {split: read_sentence_pairs(file, self.labels) for split, file in files.items()}
        self.splits = first_examples(splits, ft.max_examples)
        self.tokenizer = load_tokenizer(ctx.encoder, "encoder.path")
        label_ids = {label: i for i, label in enumerate(self.labels)}
        self.features = {
            split: encode_pairs(self.tokenizer, pairs, label_ids, ft.nli.max_length)
            for split, pairs in self.splits.items()
        }

    def data_stats(self) -> dict:
        return {split: {"pairs": len(pairs)} for split, pairs in self.splits.items()}

    def fit(self, settings: Settings, ctx: Context) -> Outcome:
        from transformers import AutoModelForSequenceClassification

        features = self.features["train"]
        head = train_head(
            AutoModelForSequenceClassification,
            features,
            settings,
            ctx,
            self.tokenizer,
            "nli",
            self.labels,
        )
        metrics: dict = {"train": {"loss": head.train_loss}}
        predicted = {}
        for split in ("dev", "test"):
            features = self.features[split]
            logits = head.predict(features, ("logits",), per_token=False)
            predicted[split] = [int(np.argmax(row)) for (row,) in logits]
            gold = [f["labels"] for f in features]
            metrics[split] = classification_scores(gold, predicted[split])
        rows = [{"pair": i, "label": self.labels[p]} for i, p in enumerate(predicted["test"])]
        return Outcome(metrics, head.save, rows, head)
