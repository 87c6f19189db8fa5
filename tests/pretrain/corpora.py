"""Corpora derived from the prepared demo corpus, and the arguments of a quick pretraining run."""

from __future__ import annotations

import json
from pathlib import Path

from datasets import Features, List, Value, load_from_disk

from clinicalnotebert.corpus.store import corpus_tokenizer, load_meta


def derive_corpus(
    source: Path,
    root: Path,
    tokenizer=None,
    tokenizer_ref=None,
    drop_note_category: bool = False,
    rows: int = 2000,
) -> Path:
    """``root/corpus``: the first ``rows`` sentences of each note type of ``source``, in the same
    on-disk format, re-tokenised from their ``text`` with ``tokenizer`` when one is given."""
    meta = load_meta(source)
    meta["variants"] = {"sentence": meta["variants"]["sentence"]}
    meta["tokenizer"] = tokenizer_ref or corpus_tokenizer(source)
    if tokenizer is not None:
        meta["vocab_size"] = len(tokenizer)
    corpus = root / "corpus"
    for note_type in meta["note_types"]:
        data = load_from_disk(str(source / "sentence" / note_type))
        data = data.select(range(min(rows, len(data))))
        if tokenizer is not None:
            data = retokenised(data, tokenizer, meta["variants"]["sentence"]["max_tokens"])
        if drop_note_category:
            data = data.remove_columns("note_category")
        data.save_to_disk(str(corpus / "sentence" / note_type))
    (corpus / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return corpus


def retokenised(data, tokenizer, max_tokens: int):
    features = Features(
        {**data.features, "input_ids": List(Value("int32")), "length": Value("int32")}
    )

    def encode(batch):
        ids = tokenizer(batch["text"], truncation=True, max_length=max_tokens)["input_ids"]
        return {"input_ids": ids, "length": [len(i) for i in ids]}

    return data.map(encode, batched=True, features=features)


def pretrain_args(corpus: Path, *extra: str) -> list[str]:
    """A quick pretraining run: micro model, sentence variant, small batches, no workers."""
    return [
        "task=pretrain",
        f"corpus.path={corpus}",
        "model=micro",
        "seq=sentence",
        "pretrain.batch.sequences=16",
        "pretrain.batch.accumulate=1",
        "pretrain.num_workers=0",
        "pretrain.val_max_sequences=256",
        "trainer.log_every_n_steps=1",
        *extra,
    ]
