"""Relation extraction on a small RadGraph-format file made here: hand-checked strict F1, a short
end-to-end run, its exported heads and its predictions in the DyGIE layout."""

import json

import pytest

from clinicalnotebert.finetune.readers import Span
from clinicalnotebert.finetune.relations import RelationTask, marked_words
from clinicalnotebert.finetune.training import Context
from clinicalnotebert.utils.training import TrainingSetup
from tests.finetune.synthetic import write_radgraph

# Every synthetic report: sentence 0 (tokens 0-5) "<size> <finding> in <side> <organ> ." with
# entities [0,0 OBS-DP] [1,1 OBS-DP] [3,4 ANAT-DP], modify 0->1, located_at 1->(3,4);
# sentence 1 (6-10) "<finding> may represent <disease> ." with [6,6 OBS-DP] [9,9 OBS-U],
# suggestive_of 6->9; sentence 2 (11-13) "no <finding> ." with [12,12 OBS-DA].


def test_typed_markers_wrap_head_and_tail():
    words = ["small", "effusion", "in", "left", "lung", "."]
    head, tail = Span(1, 1, "OBS-DP"), Span(3, 4, "ANAT-DP")
    assert marked_words(words, head, tail, start=0) == [
        "small",
        "[E1:OBS-DP]",
        "effusion",
        "[/E1:OBS-DP]",
        "in",
        "[E2:ANAT-DP]",
        "left",
        "lung",
        "[/E2:ANAT-DP]",
        ".",
    ]


def test_strict_scores_of_hand_made_predictions(tmp_path, minilm_dir, make_cfg):
    data = write_radgraph(tmp_path / "radgraph", {"train": 2, "dev": 2, "test": 2})
    cfg = make_cfg("task=finetune", "finetune.task=re", f"finetune.path={data}")
    task = RelationTask(Context(cfg.finetune, str(minilm_dir), 0, TrainingSetup.from_config(cfg)))
    obs, anat, unsure = "OBS-DP", "ANAT-DP", "OBS-U"
    entities = [
        # report 0: all six right except 9 labelled OBS-DP
        (Span(0, 0, obs), Span(1, 1, obs), Span(3, 4, anat)),
        (Span(6, 6, obs), Span(9, 9, obs)),
        (Span(12, 12, "OBS-DA"),),
        # report 1: organ span 4-4 instead of 3-4, and the OBS-DA entity missed
        (Span(0, 0, obs), Span(1, 1, obs), Span(4, 4, anat)),
        (Span(6, 6, obs), Span(9, 9, unsure)),
        (),
    ]
    relations = {
        (0, 0, 0, obs, 1, 1, obs, "modify"),  # right
        (0, 1, 1, obs, 3, 4, anat, "located_at"),  # right
        (0, 6, 6, obs, 9, 9, obs, "suggestive_of"),  # tail's entity label wrong
        (1, 1, 1, obs, 4, 4, anat, "located_at"),  # tail span wrong
        (1, 6, 6, obs, 9, 9, unsure, "suggestive_of"),  # right
    }
    scores = task.score("test", entities, relations)
    # entities: 11 predicted, 9 right, 12 gold
    assert scores["entity"]["f1"] == pytest.approx(2 * (9 / 11) * (9 / 12) / (9 / 11 + 9 / 12))
    # relations: 5 predicted, 3 right, 6 gold
    assert scores["precision"] == pytest.approx(3 / 5)
    assert scores["recall"] == pytest.approx(3 / 6)
    assert scores["micro_f1"] == pytest.approx(6 / 11)
    assert scores["per_type"]["modify"]["f1"] == pytest.approx(2 / 3)  # 1 of 1 predicted, 1 of 2
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 1 / 2) / 3)


def strict_f1_from_files(predictions_file, gold_file) -> float:
    """Strict relation micro F1 recomputed from the DyGIE-layout predictions, independently."""

    def tuples(doc, entities_key, relations_key):
        labels = {(s, e): label for sentence in doc[entities_key] for s, e, label in sentence}
        return {
            (doc["doc_key"], hs, he, labels[(hs, he)], ts, te, labels[(ts, te)], rel)
            for sentence in doc[relations_key]
            for hs, he, ts, te, rel in sentence
        }

    predicted, gold = set(), set()
    for line in predictions_file.open():
        predicted |= tuples(json.loads(line), "predicted_ner", "predicted_relations")
    for line in gold_file.open():
        gold |= tuples(json.loads(line), "ner", "relations")
    right = len(predicted & gold)
    return 2 * right / (len(predicted) + len(gold))


def test_relation_extraction_end_to_end(tmp_path, minilm_dir, run_in_process):
    from transformers import (
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoTokenizer,
    )

    data = write_radgraph(tmp_path / "radgraph", {"train": 24, "dev": 6, "test": 6})
    run_dir = tmp_path / "run"
    metrics = run_in_process(
        "task=finetune",
        "finetune.task=re",
        f"finetune.path={data}",
        f"encoder.path={minilm_dir}",
        "finetune.lr=2e-4",
        "finetune.epochs=3",
        "finetune.batch_size=8",
        "finetune.checkpoints=false",  # MiniLM's with its optimizer state: 271 MB each
        output_dir=run_dir,
    )
    assert metrics["data.train.relation_pairs"] == 24 * 8  # 6 + 2 ordered pairs per report
    assert metrics["test.entity.f1"] > 0.5
    assert metrics["test.micro_f1"] > 0  # relations are found at all
    recomputed = strict_f1_from_files(run_dir / "test_predictions.jsonl", data / "test.jsonl")
    assert metrics["test.micro_f1"] == pytest.approx(recomputed)

    tagger = AutoModelForTokenClassification.from_pretrained(run_dir / "model" / "entities")
    assert set(tagger.config.id2label.values()) >= {"O", "B-OBS-DP", "B-ANAT-DP", "I-ANAT-DP"}
    classifier = AutoModelForSequenceClassification.from_pretrained(run_dir / "model" / "relations")
    assert classifier.config.id2label[0] == "no_relation"
    tokenizer = AutoTokenizer.from_pretrained(run_dir / "model" / "relations")
    assert len(tokenizer) == classifier.get_input_embeddings().num_embeddings
    assert tokenizer.convert_tokens_to_ids("[E1:OBS-DP]") != tokenizer.unk_token_id
