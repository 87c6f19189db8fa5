"""Short runs of the real MiniLM encoder on real open data: NER on NCBI-disease, QA on COVID-QA.

Small subsets keep them to a few dozen optimizer steps on CPU, without the per-epoch checkpoints
(MiniLM's with its optimizer state: 271 MB each); the scores must still beat trivial predictors
clearly (all-O tagging scores 0 entity F1; for QA the best of "the first k words of the context"
is computed on the same questions).
"""

import json
import random

import pytest
from transformers import AutoModelForQuestionAnswering, AutoModelForTokenClassification

from clinicalnotebert.finetune.metrics import squad_scores
from clinicalnotebert.finetune.readers import read_conll, read_squad
from tests.finetune.files import write_conll, write_squad


@pytest.mark.slow
def test_ner_on_ncbi_disease(tmp_path, shared_data, minilm_dir, run_in_process):
    source = shared_data / "ncbi_disease"
    with_entities = [s for s in read_conll(source / "train.tsv") if set(s.tags) != {"O"}]
    data = tmp_path / "ncbi"
    data.mkdir()
    write_conll(data / "train.tsv", [(s.tokens, s.tags) for s in with_entities[:160]])
    for split in ("devel", "test"):
        sentences = read_conll(source / f"{split}.tsv")[:100]
        write_conll(data / f"{split}.tsv", [(s.tokens, s.tags) for s in sentences])
    metrics = run_in_process(
        "task=finetune",
        "finetune.task=ner",
        f"finetune.path={data}",
        f"encoder.path={minilm_dir}",
        "finetune.lr=2e-4",
        "finetune.epochs=2",
        "finetune.batch_size=8",
        "finetune.checkpoints=false",
    )
    # measured on the dev machine: test F1 0.33 (P 0.29, R 0.39), dev F1 0.34
    assert metrics["test.f1"] > 0.15 and metrics["dev.f1"] > 0.15
    assert metrics["test.per_type.Disease.support"] == sum(
        tag == "B-Disease" for s in read_conll(data / "test.tsv") for tag in s.tags
    )
    tagger = AutoModelForTokenClassification.from_pretrained(tmp_path / "run" / "model")
    assert tagger.config.id2label == {0: "O", 1: "B-Disease", 2: "I-Disease"}


def cut_context(question, width: int):
    """About ``width`` characters of the paper around the answer, cut on spaces, the answer at a
    random (seeded by the question id) place in it."""
    rng = random.Random(question.id)
    answer = question.answers[0]
    context = question.context
    start = max(0, answer.start - rng.randint(0, max(width - len(answer.text), 0)))
    start = context.rfind(" ", 0, start) + 1 if start else 0
    end = context.find(" ", min(start + width, len(context)))
    end = max(len(context) if end < 0 else end, answer.start + len(answer.text))
    piece = context[start:end]
    return question.id, question.question, piece, [(answer.text, answer.start - start)]


def covid_qa_subsets(shared_data, directory):
    """Questions with answers of at most 5 words, split by paper (paper index mod 5)."""
    parsed = read_squad(shared_data / "covid_qa" / "200423_covidQA.json")
    short = [q for q in parsed.questions if len(q.answers[0].text.split()) <= 5]
    splits = {
        "train": [q for q in short if q.paragraph % 5 >= 2][:240],
        "dev": [q for q in short if q.paragraph % 5 == 0],
        "test": [q for q in short if q.paragraph % 5 == 1],
    }
    directory.mkdir()
    for split, questions in splits.items():
        write_squad(directory / f"{split}.json", [cut_context(q, 300) for q in questions])
    return directory


def best_first_words_baseline(path) -> dict:
    """The best SQuAD scores of answering every question with the first k context words."""
    questions = read_squad(path).questions
    golds = {q.id: [a.text for a in q.answers] for q in questions}
    runs = [
        squad_scores({q.id: " ".join(q.context.split()[:k]) for q in questions}, golds)
        for k in (1, 2, 3, 5, 10, 20, 30)
    ]
    return {key: max(run[key] for run in runs) for key in ("exact_match", "f1")}


@pytest.mark.slow
def test_qa_on_covid_qa(tmp_path, shared_data, minilm_dir, run_in_process):
    data = covid_qa_subsets(shared_data, tmp_path / "covid_qa")
    metrics = run_in_process(
        "task=finetune",
        "finetune.task=qa",
        f"finetune.path={data}",
        f"encoder.path={minilm_dir}",
        "finetune.lr=3e-4",
        "finetune.epochs=2",
        "finetune.batch_size=16",
        "finetune.checkpoints=false",
    )
    assert metrics["data.train.questions"] == 240 and metrics["data.test.questions"] == 84
    trivial = best_first_words_baseline(data / "test.json")
    # measured on the dev machine: test EM 0.12, F1 0.24 (dev 0.13, 0.30); trivial EM 0, F1 0.13
    assert metrics["test.exact_match"] >= 0.05 > trivial["exact_match"]
    assert metrics["test.f1"] > 1.5 * trivial["f1"]
    predictions = [
        json.loads(line) for line in (tmp_path / "run" / "test_predictions.jsonl").open()
    ]
    # offsets into each context, never the answer text itself
    assert len(predictions) == 84 and all(
        set(p) == {"id", "answer_start", "answer_end"} for p in predictions
    )
    assert all(p["answer_start"] < p["answer_end"] for p in predictions)
    reader = AutoModelForQuestionAnswering.from_pretrained(tmp_path / "run" / "model")
    assert reader.qa_outputs.out_features == 2
