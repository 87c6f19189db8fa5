"""Fine-tuning metrics against hand-computed cases (and seqeval as an independent check)."""

import pytest
from seqeval.metrics import f1_score as seqeval_f1

from clinicalnotebert.finetune.metrics import (
    classification_scores,
    entity_scores,
    exact_match,
    normalize_answer,
    relation_scores,
    squad_scores,
    token_f1,
)

GOLD = [["B-D", "I-D", "O", "B-D", "O"], ["O", "B-C", "I-C"]]
# (D,0,1) right; (D,3,4) wrong span; I-C after O opens an entity (conlleval), so (C,1,2) is right.
PREDICTED = [["B-D", "I-D", "O", "B-D", "I-D"], ["O", "I-C", "I-C"]]


def test_entity_scores_by_hand():
    scores = entity_scores(GOLD, PREDICTED)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 / 3)
    assert scores["per_type"]["D"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    )
    assert scores["per_type"]["C"]["f1"] == 1.0
    assert scores["f1"] == pytest.approx(seqeval_f1(GOLD, PREDICTED))


def test_entity_scores_need_the_exact_type_and_span():
    assert entity_scores([["B-D", "I-D"]], [["B-C", "I-C"]])["f1"] == 0.0
    assert entity_scores([["B-D", "I-D"]], [["B-D", "O"]])["f1"] == 0.0
    assert entity_scores([["O", "O"]], [["O", "O"]])["f1"] == 0.0  # nothing to find: 0, no error


def test_squad_normalisation():
    assert normalize_answer("The  Cat, sat! An apple") == "cat sat apple"
    assert exact_match("the cat", "Cat.") == 1.0
    # pred {big, red, dog} vs gold {red, dog, barked}: 2 common -> P = R = 2/3
    assert token_f1("a big red dog", "the red dog barked") == pytest.approx(2 / 3)
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0


def test_squad_scores_take_the_best_gold_answer():
    predictions = {"q1": "red dog", "q2": "cat", "q3": "", "q4": "x", "q5": "big red dog"}
    golds = {
        "q1": ["the dog", "red dog"],  # exact with the second answer
        "q2": ["a dog"],
        "q3": [],  # unanswerable, abstained: right
        "q4": [],  # unanswerable, answered: wrong
        "q5": ["red dog", "dog house"],  # F1 0.8 against the first, 0.4 against the second
    }
    scores = squad_scores(predictions, golds)
    assert scores["exact_match"] == pytest.approx(2 / 5)
    assert scores["f1"] == pytest.approx((1 + 0 + 1 + 0 + 0.8) / 5)


def test_strict_relation_f1_by_hand():
    gold = {
        (0, 0, 0, "OBS", 2, 3, "ANAT", "located_at"),
        (0, 5, 5, "OBS", 0, 0, "OBS", "suggestive_of"),
        (1, 1, 1, "OBS", 3, 3, "OBS", "modify"),
    }
    predicted = {
        (0, 0, 0, "OBS", 2, 3, "ANAT", "located_at"),  # right
        (0, 5, 5, "OBS", 0, 0, "ANAT", "suggestive_of"),  # tail entity label wrong
        (1, 1, 1, "OBS", 3, 3, "OBS", "located_at"),  # relation label wrong
        (1, 1, 1, "OBS", 3, 4, "OBS", "modify"),  # tail span wrong
    }
    scores = relation_scores(gold, predicted, ["located_at", "modify", "suggestive_of"])
    assert scores["precision"] == pytest.approx(1 / 4)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["micro_f1"] == pytest.approx(2 / 7)
    assert scores["per_type"]["located_at"]["f1"] == pytest.approx(2 / 3)
    assert scores["macro_f1"] == pytest.approx(2 / 9)


def test_classification_scores_by_hand():
    scores = classification_scores([0, 0, 1, 2], [0, 1, 1, 2])
    assert scores["accuracy"] == 0.75
    assert scores["micro_f1"] == pytest.approx(0.75)
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
