"""Writers of small task files in the published formats, for the fine-tuning tests."""

from __future__ import annotations

import json
from pathlib import Path


def write_conll(path: Path, sentences) -> Path:
    """``sentences``: (tokens, tags) pairs, written as ``token<TAB>tag`` with blank lines."""
    blocks = [
        "".join(f"{t}\t{g}\n" for t, g in zip(*sentence, strict=True)) for sentence in sentences
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_squad(path: Path, items) -> Path:
    """``items``: (id, question, context, [(answer text, answer_start), ...]); one paragraph each."""
    paragraphs = [
        {
            "context": context,
            "qas": [
                {
                    "id": qid,
                    "question": question,
                    "answers": [{"text": t, "answer_start": s} for t, s in answers],
                    "is_impossible": not answers,
                }
            ],
        }
        for qid, question, context, answers in items
    ]
    path.write_text(
        json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": paragraphs}]})
    )
    return path
