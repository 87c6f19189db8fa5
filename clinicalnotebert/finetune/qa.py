"""``finetune.task=qa``: extractive QA on SQuAD-format JSON (v1, and v2 with unanswerables).

Contexts longer than ``max_length`` are read in overlapping windows (``doc_stride`` tokens of
overlap); an answer not inside a window is labelled with the [CLS] position. Answers are picked
from the ``n_best`` start and end logits of every window of a question, at most
``max_answer_length`` tokens long; with v2 data the empty answer wins when the [CLS] score beats
the best span by more than ``null_score_diff_threshold``. Training uses one row per gold answer;
evaluation scores each question once against all of its gold answers. The reference's one-row-per-answer flattening and emrQA's per-paragraph
subsampling are behind ``qa.flatten_answers`` and ``qa.subsample_fraction`` [QUIRK].
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from clinicalnotebert.finetune.metrics import squad_scores
from clinicalnotebert.finetune.readers import (
    Answer,
    Question,
    find_split_files,
    first_examples,
    read_squad,
)
from clinicalnotebert.finetune.training import Context, Outcome, Settings, train_head
from clinicalnotebert.models.tokenizer import load_tokenizer

SQUAD_EXTENSIONS = (".json",)
Offset = tuple[int, int] | None  # a token's character span in the context; None outside it
Span = tuple[int, int]  # an answer's [start, end) characters in the context


def subsample(questions: Sequence[Question], fraction: float, seed: int) -> list[Question]:
    """The reference's emrQA subsets: ``int(fraction * n)`` of each paragraph's ``n`` questions,
    drawn after seeding with ``seed`` again for every paragraph."""
    paragraphs: dict[int, list[Question]] = defaultdict(list)
    for question in questions:
        paragraphs[question.paragraph].append(question)
    kept = []
    for group in paragraphs.values():
        kept += random.Random(seed).sample(group, int(fraction * len(group)))
    return kept


def flatten(questions: Sequence[Question], split: str) -> list[Question]:
    """The reference: one row per (question, answer), each with its own single answer;
    unanswerable questions give no row."""
    rows: list[Question] = []
    for question in questions:
        for answer in question.answers:
            rows.append(replace(question, id=f"{split}_{len(rows)}", answers=(answer,)))
    return rows


def training_rows(questions: Sequence[Question]) -> list[Question]:
    """One training row per gold answer (an unanswerable question: one row, labelled [CLS])."""
    return [
        row
        for question in questions
        for row in [replace(question, answers=(a,)) for a in question.answers] or [question]
    ]


def read_question_splits(ft) -> tuple[dict[str, list[Question]], dict[str, int]]:
    """Questions per split (after the optional quirks) and the repaired answer offsets."""
    files = find_split_files(Path(ft.path), SQUAD_EXTENSIONS, ft.files)
    parsed = {split: read_squad(file) for split, file in files.items()}
    splits = {}
    for split, result in parsed.items():
        questions = result.questions
        if ft.qa.subsample_fraction:
            questions = subsample(questions, ft.qa.subsample_fraction, ft.qa.subsample_seed)
        if ft.qa.flatten_answers:
            questions = flatten(questions, split)
        splits[split] = questions
    return first_examples(splits, ft.max_examples), {s: r.repaired for s, r in parsed.items()}


@dataclass
class Windows:
    """Model features of question/context windows and what maps them back to the questions."""

    features: list[dict]
    question: list[int]  # per window: index of its question
    offsets: list[list[Offset]]
    cls: list[int]  # per window: position of [CLS] (the "no answer" position)


def answer_positions(offsets: Sequence[Offset], answer: Answer | None, cls: int) -> tuple[int, int]:
    """First and last token of ``answer`` in this window, or (cls, cls) when it is not inside."""
    inside = [i for i, span in enumerate(offsets) if span is not None]
    if answer is None or not inside:
        return cls, cls
    end_char = answer.start + len(answer.text)
    if answer.start < offsets[inside[0]][0] or end_char > offsets[inside[-1]][1]:
        return cls, cls
    start = max(i for i in inside if offsets[i][0] <= answer.start)
    end = min(i for i in inside if offsets[i][1] >= end_char)
    return start, end


def encode_questions(tokenizer, questions: Sequence[Question], qa, with_positions: bool) -> Windows:
    encoded = tokenizer(
        [q.question.lstrip() for q in questions],
        [q.context for q in questions],
        truncation="only_second",
        max_length=qa.max_length,
        stride=qa.doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    keys = [key for key in ("input_ids", "token_type_ids") if key in encoded]
    windows = Windows([], [], [], [])
    for row, index in enumerate(encoded["overflow_to_sample_mapping"]):
        ids = encoded["input_ids"][row]
        cls = ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in ids else 0
        offsets = [
            tuple(span) if sequence == 1 else None
            for span, sequence in zip(
                encoded["offset_mapping"][row], encoded.sequence_ids(row), strict=True
            )
        ]
        feature = {key: encoded[key][row] for key in keys}
        if with_positions:
            answer = questions[index].answers[0] if questions[index].answers else None
            start, end = answer_positions(offsets, answer, cls)
            feature.update(start_positions=start, end_positions=end)
        windows.features.append(feature)
        windows.question.append(index)
        windows.offsets.append(offsets)
        windows.cls.append(cls)
    return windows


@dataclass(frozen=True)
class Decoding:
    n_best: int
    max_answer_length: int
    version_2: bool
    null_threshold: float


def best_answers(
    questions: Sequence[Question], windows: Windows, logits: Sequence[tuple], decoding: Decoding
) -> list[Span | None]:
    """The answer span (context characters) of each question from its windows' start/end
    logits; ``None`` where there is none (or, for SQuAD v2, where abstaining scores higher)."""
    best: list[tuple[float, Span | None]] = [(-np.inf, None)] * len(questions)
    null: list[float] = [np.inf] * len(questions)
    for row, (start_logits, end_logits) in enumerate(logits):
        index, offsets, cls = windows.question[row], windows.offsets[row], windows.cls[row]
        null[index] = min(null[index], float(start_logits[cls] + end_logits[cls]))
        for score, start, end in candidate_spans(start_logits, end_logits, offsets, decoding):
            if score > best[index][0]:
                best[index] = (score, (offsets[start][0], offsets[end][1]))
    spans = []
    for (score, span), null_score in zip(best, null, strict=True):
        abstain = decoding.version_2 and null_score > score + decoding.null_threshold
        spans.append(None if abstain else span)
    return spans


def answer_text(question: Question, span: Span | None) -> str:
    return "" if span is None else question.context[span[0] : span[1]]


def candidate_spans(start_logits, end_logits, offsets: Sequence[Offset], decoding: Decoding):
    """``(score, start, end)`` of valid spans among the ``n_best`` starts and ends."""
    starts = np.argsort(start_logits)[::-1][: decoding.n_best]
    ends = np.argsort(end_logits)[::-1][: decoding.n_best]
    for start in starts:
        for end in ends:
            if offsets[start] is None or offsets[end] is None:
                continue
            if end < start or end - start + 1 > decoding.max_answer_length:
                continue
            yield float(start_logits[start] + end_logits[end]), start, end


def has_unanswerable(splits: dict[str, list[Question]]) -> bool:
    return any(not q.answers for questions in splits.values() for q in questions)


class QaTask:
    """SQuAD-format train / dev / test JSON; scored by SQuAD exact match and F1."""

    def __init__(self, ctx: Context):
        qa = ctx.ft.qa
        self.splits, self.repaired = read_question_splits(ctx.ft)
        version_2 = qa.version_2_with_negative
        if version_2 == "auto":
            version_2 = has_unanswerable(self.splits)
        self.decoding = Decoding(
            qa.n_best, qa.max_answer_length, bool(version_2), qa.null_score_diff_threshold
        )
        self.tokenizer = load_tokenizer(ctx.encoder, "encoder.path")
        self.windows = {
            "train": encode_questions(
                self.tokenizer, training_rows(self.splits["train"]), qa, with_positions=True
            ),
            **{
                split: encode_questions(
                    self.tokenizer, self.splits[split], qa, with_positions=False
                )
                for split in ("dev", "test")
            },
        }

    def data_stats(self) -> dict:
        return {
            split: {
                "questions": len(questions),
                "unanswerable": sum(not q.answers for q in questions),
                "windows": len(self.windows[split].features),
                "repaired_answers": self.repaired[split],
            }
            for split, questions in self.splits.items()
        }

    def fit(self, settings: Settings, ctx: Context) -> Outcome:
        from transformers import AutoModelForQuestionAnswering

        features = self.windows["train"].features
        head = train_head(
            AutoModelForQuestionAnswering, features, settings, ctx, self.tokenizer, "qa"
        )
        metrics: dict = {"train": {"loss": head.train_loss}}
        answers = {}
        for split in ("dev", "test"):
            questions, windows = self.splits[split], self.windows[split]
            outputs = ("start_logits", "end_logits")
            logits = head.predict(windows.features, outputs, per_token=True)
            answers[split] = best_answers(questions, windows, logits, self.decoding)
            predictions = {
                i: answer_text(q, span)
                for i, (q, span) in enumerate(zip(questions, answers[split], strict=True))
            }
            golds = {i: [a.text for a in q.answers] for i, q in enumerate(questions)}
            metrics[split] = squad_scores(predictions, golds)
        # Character offsets into the context, not the answer text: contexts are clinical notes.
        rows = [
            {"id": q.id, "answer_start": span and span[0], "answer_end": span and span[1]}
            for q, span in zip(self.splits["test"], answers["test"], strict=True)
        ]
        return Outcome(metrics, head.save, rows, head)
