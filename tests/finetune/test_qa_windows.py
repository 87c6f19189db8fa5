"""QA windows over long contexts, answer positions, and the n-best answer decoding."""

import numpy as np
import pytest
from omegaconf import OmegaConf

from clinicalnotebert.finetune.qa import (
    Decoding,
    answer_text,
    best_answers,
    encode_questions,
    flatten,
    subsample,
    training_rows,
)
from clinicalnotebert.finetune.readers import Answer, Question
from clinicalnotebert.models.tokenizer import load_tokenizer
from tests.finetune.files import write_squad

FILLER = " ".join(f"word{i}" for i in range(40))
CONTEXT = f"{FILLER} the left lower lobe shows a small effusion today {FILLER}"
ANSWER = Answer("small effusion", CONTEXT.index("small effusion"))
QUESTION = Question("q1", "What does the lobe show?", CONTEXT, (ANSWER,), 0)
WINDOWS = OmegaConf.create({"max_length": 48, "doc_stride": 16})


@pytest.fixture(scope="module")
def tokenizer(minilm_dir):
    return load_tokenizer(minilm_dir)


def test_training_windows_point_at_the_answer_or_at_cls(tokenizer):
    windows = encode_questions(tokenizer, [QUESTION], WINDOWS, with_positions=True)
    assert len(windows.features) > 3 and set(windows.question) == {0}
    holding = 0
    for feature, offsets in zip(windows.features, windows.offsets, strict=True):
        assert len(feature["input_ids"]) <= 48
        start, end = feature["start_positions"], feature["end_positions"]
        if (start, end) == (0, 0):
            continue
        holding += 1
        assert CONTEXT[offsets[start][0] : offsets[end][1]] == "small effusion"
    # the answer is whole in at least one window, and windows overlap by 16 tokens
    assert holding >= 1


def answer_logits(windows):
    """Start/end logits that favour the answer's first and last tokens in every window that
    holds them, and question tokens (outside the context) even more."""
    result = []
    for feature, offsets in zip(windows.features, windows.offsets, strict=True):
        n = len(feature["input_ids"])
        start, end = np.zeros(n), np.zeros(n)
        start[1] = end[2] = 50.0  # question tokens: never an answer
        for i, span in enumerate(offsets):
            if span is not None and span[0] == ANSWER.start:
                start[i] = 10.0
            if span is not None and span[1] == ANSWER.start + len(ANSWER.text):
                end[i] = 10.0
        result.append((start, end))
    return result


def test_decoding_picks_the_best_valid_span_across_windows(tokenizer):
    windows = encode_questions(tokenizer, [QUESTION], WINDOWS, with_positions=False)
    decoding = Decoding(n_best=20, max_answer_length=30, version_2=False, null_threshold=0.0)
    (span,) = best_answers([QUESTION], windows, answer_logits(windows), decoding)
    assert span == (ANSWER.start, ANSWER.start + len(ANSWER.text))
    assert answer_text(QUESTION, span) == "small effusion"
    too_short = Decoding(n_best=20, max_answer_length=1, version_2=False, null_threshold=0.0)
    (span,) = best_answers([QUESTION], windows, answer_logits(windows), too_short)
    answer = answer_text(QUESTION, span)
    assert answer != "small effusion" and len(answer.split()) == 1


def test_version_2_abstains_when_cls_wins(tokenizer):
    windows = encode_questions(tokenizer, [QUESTION], WINDOWS, with_positions=False)
    logits = answer_logits(windows)
    for start, end in logits:
        start[0] = end[0] = 11.0  # null score 22 > best span 20
    v2 = Decoding(n_best=20, max_answer_length=30, version_2=True, null_threshold=0.0)
    assert best_answers([QUESTION], windows, logits, v2) == [None]
    assert answer_text(QUESTION, None) == ""
    lenient = Decoding(n_best=20, max_answer_length=30, version_2=True, null_threshold=5.0)
    (span,) = best_answers([QUESTION], windows, logits, lenient)
    assert answer_text(QUESTION, span) == "small effusion"


def test_training_rows_and_the_reference_flattening_and_subsampling():
    two = Question("q", "?", "a b", (Answer("a", 0), Answer("b", 2)), 0)
    none = Question("n", "?", "a b", (), 0)
    rows = flatten([two, none], "dev")
    assert [(r.id, r.answers) for r in rows] == [
        ("dev_0", (Answer("a", 0),)),
        ("dev_1", (Answer("b", 2),)),
    ]
    assert [(r.id, r.answers) for r in training_rows([two, none])] == [
        ("q", (Answer("a", 0),)),
        ("q", (Answer("b", 2),)),
        ("n", ()),
    ]
    paragraph = [Question(str(i), "?", "c", (), 0) for i in range(10)]
    other = [Question(f"x{i}", "?", "c", (), 1) for i in range(4)]
    kept = subsample(paragraph + other, 0.2, 55)
    assert len(kept) == 2  # int(0.2 * 10) + int(0.2 * 4)
    assert kept == subsample(paragraph + other, 0.2, 55) and {q.paragraph for q in kept} == {0}


def test_squad_v2_run_keeps_unanswerable_questions(tmp_path, minilm_dir, run_in_process):
    context = "The chest film shows a small left effusion and no pneumothorax."
    start = context.index("small left effusion")
    answerable = [("a", "What does the film show?", context, [("small left effusion", start)])]
    unanswerable = [("u", "What was the heart rate?", context, [])]
    data = tmp_path / "radqa"
    data.mkdir()
    for split in ("train", "dev", "test"):
        items = [(f"{split}{i}{qid}", *rest) for i in range(4) for qid, *rest in answerable]
        items += [(f"{split}{i}{qid}", *rest) for i in range(2) for qid, *rest in unanswerable]
        write_squad(data / f"{split}.json", items)
    overrides = [
        "task=finetune",
        "finetune.task=qa",
        f"finetune.path={data}",
        f"encoder.path={minilm_dir}",
    ]
    metrics = run_in_process(*overrides, "finetune.epochs=1", "finetune.batch_size=8")
    assert metrics["data.test.questions"] == 6 and metrics["data.test.unanswerable"] == 2
    assert 0.0 <= metrics["test.f1"] <= 1.0
    flat = run_in_process(
        *overrides,
        "finetune.epochs=1",
        "finetune.qa.flatten_answers=true",
        output_dir=tmp_path / "flattened",
    )
    assert flat["data.test.questions"] == 4 and flat["data.test.unanswerable"] == 0
