"""Scores of the fine-tuning tasks, all as fractions in [0, 1].

- classification (NLI): accuracy, macro-F1, micro-F1 (sklearn);
- entities (NER): exact span-and-type matches of BIO chunks decoded as seqeval / conlleval do
  (an ``I-X`` after ``O`` opens an entity), overall and per type;
- extractive QA: the official SQuAD v2 script's normalisation, exact match and token F1, each
  the maximum over a question's gold answers (an unanswerable question's gold is ``""``);
- relations: strict F1 (docs/reference.md §7): a predicted relation counts only when both argument
  spans, both entity labels and the relation label all match; micro, and macro over relation types.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence

from seqeval.metrics.sequence_labeling import get_entities


def prf(true_positives: int, predicted: int, gold: int) -> dict[str, float]:
    """Precision, recall and F1 (0 where a denominator is 0)."""
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / gold if gold else 0.0
    total = precision + recall
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / total if total else 0.0,
    }


def classification_scores(gold: Sequence[int], predicted: Sequence[int]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_f1": float(f1_score(gold, predicted, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(gold, predicted, average="micro", zero_division=0)),
    }


def span_scores(
    gold: set, predicted: set, type_of: Callable[[Hashable], str], types: Iterable[str]
) -> dict:
    """Overall precision / recall / F1 of exact matches, plus the same per type (with support)."""
    scores = prf(len(gold & predicted), len(predicted), len(gold))
    per_type = {}
    for kind in types:
        gold_kind = {item for item in gold if type_of(item) == kind}
        predicted_kind = {item for item in predicted if type_of(item) == kind}
        per_type[kind] = prf(len(gold_kind & predicted_kind), len(predicted_kind), len(gold_kind))
        per_type[kind]["support"] = len(gold_kind)
    return {**scores, "per_type": per_type}


def bio_entities(sentences: Sequence[Sequence[str]]) -> set[tuple[int, str, int, int]]:
    """``(sentence, type, first word, last word)`` of every BIO chunk."""
    return {
        (index, kind, start, end)
        for index, tags in enumerate(sentences)
        for kind, start, end in get_entities(list(tags))
    }


def entity_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
    """Entity-level scores over sentences of BIO tags (same lengths, sentence by sentence)."""
    gold_set, predicted_set = bio_entities(gold), bio_entities(predicted)
    types = sorted({entity[1] for entity in gold_set | predicted_set})
    return span_scores(gold_set, predicted_set, lambda entity: entity[1], types)


# ---- SQuAD ----

ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation, the articles a / an / the, and extra whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in PUNCTUATION)
    return " ".join(ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    predicted_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not predicted_tokens or not gold_tokens:
        return float(predicted_tokens == gold_tokens)
    common = sum((Counter(predicted_tokens) & Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_scores(
    predictions: Mapping[str, str], golds: Mapping[str, Sequence[str]]
) -> dict[str, float]:
    """Mean exact match and F1 over the questions in ``golds`` (each the max over its answers)."""
    exact, f1 = 0.0, 0.0
    for qid, answers in golds.items():
        references = [a for a in answers if normalize_answer(a)] or [""]
        prediction = predictions.get(qid, "")
        exact += max(exact_match(prediction, ref) for ref in references)
        f1 += max(token_f1(prediction, ref) for ref in references)
    count = max(len(golds), 1)
    return {"exact_match": exact / count, "f1": f1 / count}


# ---- relations ----


def relation_scores(gold: set, predicted: set, labels: Sequence[str]) -> dict:
    """Strict relation scores; items are tuples whose last element is the relation label and
    whose other elements identify both arguments (document, spans, entity labels)."""
    scores = span_scores(gold, predicted, lambda item: item[-1], labels)
    macro = [scores["per_type"][label]["f1"] for label in labels]
    return {
        "precision": scores["precision"],
        "recall": scores["recall"],
        "micro_f1": scores["f1"],
        "macro_f1": sum(macro) / len(macro) if macro else 0.0,
        "per_type": scores["per_type"],
    }
