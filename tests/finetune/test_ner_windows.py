"""NER windows: long sentences are split on word boundaries, every word is predicted once and the
whole sentence is scored; the reference's truncation drops the tail from scoring."""

import pytest
import torch

from clinicalnotebert.finetune.metrics import entity_scores
from clinicalnotebert.finetune.module import FinetuneModule
from clinicalnotebert.finetune.ner import (
    encode_sentences,
    gold_tags,
    predict_tags,
    split_windows,
    truncated_window,
)
from clinicalnotebert.finetune.readers import TaggedSentence
from clinicalnotebert.finetune.training import Head
from clinicalnotebert.models import IGNORE_INDEX
from clinicalnotebert.models.tokenizer import load_tokenizer
from clinicalnotebert.utils.training import TrainingSetup, build_trainer

LABELS = ["O", "B-D", "I-D"]
LABEL_IDS = {label: i for i, label in enumerate(LABELS)}


@pytest.mark.parametrize(
    ("counts", "budget", "windows"),
    [
        ([3, 2, 4, 1], 5, [(0, 2), (2, 2)]),
        ([7, 1], 5, [(0, 1), (1, 1)]),  # a word over the budget fills a window alone
        ([0, 0, 0], 5, [(0, 3)]),  # a word with no subword still takes a position ([UNK])
        ([1] * 12, 5, [(0, 5), (5, 5), (10, 2)]),
    ],
)
def test_split_windows(counts, budget, windows):
    assert split_windows(counts, budget) == windows


def test_truncated_window_keeps_words_whose_first_subword_fits():
    assert truncated_window([3, 2, 4, 1], 5) == [(0, 2)]
    assert truncated_window([4, 3], 5) == [(0, 2)]  # word 2 starts at subword 4 < 5


class CancerTagger(torch.nn.Module):
    """A stand-in model: B-D on every 'cancer' subword, O elsewhere."""

    def __init__(self, cancer_id: int):
        super().__init__()
        self.cancer_id = cancer_id

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        logits = torch.zeros(*input_ids.shape, len(LABELS))
        logits[..., 0] = 1.0
        logits[..., 1] = (input_ids == self.cancer_id).float() * 2.0
        return {"logits": logits}


def long_sentence() -> TaggedSentence:
    """200 words: 'cancer' at 10 and 180, a five-subword word at 100, 'the' elsewhere."""
    words = ["the"] * 200
    tags = ["O"] * 200
    for position in (10, 180):
        words[position], tags[position] = "cancer", "B-D"
    words[100] = "unbelievably"
    return TaggedSentence(tuple(words), tuple(tags))


@pytest.fixture(scope="module")
def tokenizer(minilm_dir):
    return load_tokenizer(minilm_dir)


def prediction_head(model, make_cfg, tokenizer, eval_batch_size: int) -> Head:
    """``model`` behind the fine-tuning module and a CPU trainer, predicting only."""
    cfg = make_cfg("task=finetune")
    trainer = build_trainer(TrainingSetup.from_config(cfg), logger=False)
    module = FinetuneModule(model, cfg.finetune, lr=0.0, seed=0)
    return Head(module, trainer, tokenizer, eval_batch_size)


@pytest.mark.parametrize(("truncate", "scored", "found"), [(False, 200, 2), (True, 148 - 4, 1)])
def test_long_sentence_windows_are_all_predicted(tokenizer, make_cfg, truncate, scored, found):
    sentence = long_sentence()
    encoded = encode_sentences(tokenizer, [sentence], LABEL_IDS, max_length=150, truncate=truncate)
    assert all(len(f["input_ids"]) <= 150 for f in encoded.features)
    assert encoded.scored_words == [scored]
    covered = [w for _, first, size in encoded.windows for w in range(first, first + size)]
    assert covered == list(range(scored))  # every scored word in exactly one window
    for feature, positions in zip(encoded.features, encoded.first_subwords, strict=True):
        labelled = [i for i, label in enumerate(feature["labels"]) if label != IGNORE_INDEX]
        assert labelled == positions  # only first subwords carry labels

    model = CancerTagger(tokenizer.convert_tokens_to_ids("cancer"))
    head = prediction_head(model, make_cfg, tokenizer, eval_batch_size=4)
    predicted = predict_tags(head, encoded, LABELS)
    assert len(predicted[0]) == scored
    gold = gold_tags([sentence], encoded.scored_words)
    scores = entity_scores(gold, predicted)
    assert scores["f1"] == 1.0
    assert scores["per_type"]["D"]["support"] == found  # truncation loses the entity at 180


def test_windows_split_where_the_subwords_run_out(tokenizer):
    """148 subwords fit between [CLS] and [SEP]: the 5-subword word at 100 pushes the split."""
    encoded = encode_sentences(tokenizer, [long_sentence()], LABEL_IDS, 150, truncate=False)
    assert [(first, size) for _, first, size in encoded.windows] == [(0, 144), (144, 56)]
