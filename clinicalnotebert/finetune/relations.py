"""``finetune.task=re``: relation extraction on DyGIE JSONL (RadGraph), as a pipeline of two heads.

1. Entities: BIO tagging of each sentence's ``ner`` spans (the NER task's windows and decoding).
2. Relations: every ordered pair of entities of a sentence, the sentence marked with typed
   markers (``[E1:OBS-DP] head [/E1:OBS-DP]``, ``[E2:ANAT-DP] tail [/E2:ANAT-DP]``, added to the
   tokenizer), classified from [CLS] into a relation type or ``no_relation``. Training pairs come
   from the gold entities, evaluation pairs from the predicted ones (with predicted labels), so a
   relation is only found when both of its entities are.

Scored with the strict relation F1 (docs/reference.md §7): spans and labels of both entities and the
relation label must match; micro and macro over the relation types of the training data. The
reference ran DyGIE++ in a separate environment; this pipeline is a compact stand-in, not a copy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from seqeval.metrics.sequence_labeling import get_entities

from clinicalnotebert.finetune.metrics import prf, relation_scores
from clinicalnotebert.finetune.ner import encode_sentences, predict_tags, tag_labels
from clinicalnotebert.finetune.readers import (
    Report,
    Span,
    TaggedSentence,
    find_split_files,
    first_examples,
    read_dygie,
)
from clinicalnotebert.finetune.training import Context, Head, Outcome, Settings, train_head
from clinicalnotebert.models.tokenizer import load_tokenizer

DYGIE_EXTENSIONS = (".jsonl", ".json")
ROLES = ("E1", "E2")  # head, tail
NO_RELATION = "no_relation"


def read_report_splits(ft) -> dict[str, list[Report]]:
    files = find_split_files(Path(ft.path), DYGIE_EXTENSIONS, ft.files)
    return first_examples(
        {split: read_dygie(file) for split, file in files.items()}, ft.max_examples
    )


@dataclass(frozen=True)
class SentenceRef:
    report: int
    sentence: int
    start: int  # document-level index of the sentence's first token


def sentence_refs(reports: Sequence[Report]) -> list[SentenceRef]:
    return [
        SentenceRef(r, s, start)
        for r, report in enumerate(reports)
        for s, start in enumerate(report.sentence_starts())
    ]


def bio_tags(words: Sequence[str], spans: Sequence[Span], start: int) -> tuple[list[str], int]:
    """BIO tags of a sentence's entity spans and how many spans overlapped an earlier one
    (BIO cannot hold them; they are left out of the tagger's training data only)."""
    tags, overlapping = ["O"] * len(words), 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        positions = range(span.start - start, span.end - start + 1)
        if any(tags[i] != "O" for i in positions):
            overlapping += 1
            continue
        for i in positions:
            tags[i] = ("B-" if i == positions[0] else "I-") + span.label
    return tags, overlapping


def tagged_sentences(reports: Sequence[Report], refs: Sequence[SentenceRef]):
    sentences, overlapping = [], 0
    for ref in refs:
        report = reports[ref.report]
        words = report.sentences[ref.sentence]
        tags, dropped = bio_tags(words, report.entities[ref.sentence], ref.start)
        sentences.append(TaggedSentence(words, tuple(tags)))
        overlapping += dropped
    return sentences, overlapping


def markers(role: str, label: str) -> tuple[str, str]:
    """Typed entity markers (as PURE): the role and the entity label, opening and closing."""
    return f"[{role}:{label}]", f"[/{role}:{label}]"


def marker_tokens(entity_types: Sequence[str]) -> list[str]:
    return [token for kind in entity_types for role in ROLES for token in markers(role, kind)]


def marked_words(words: Sequence[str], head: Span, tail: Span, start: int) -> list[str]:
    """The sentence with typed markers around the head (E1) and the tail (E2)."""
    before: dict[int, list[str]] = defaultdict(list)
    after: dict[int, list[str]] = defaultdict(list)
    for role, span in zip(ROLES, (head, tail), strict=True):
        opening, closing = markers(role, span.label)
        before[span.start - start].append(opening)
        after[span.end - start].append(closing)
    marked = []
    for i, word in enumerate(words):
        marked += [*before.get(i, []), word, *after.get(i, [])]
    return marked


@dataclass(frozen=True)
class Pair:
    ref: SentenceRef
    head: Span
    tail: Span


def entity_pairs(refs: Sequence[SentenceRef], entities: Sequence[Sequence[Span]]) -> list[Pair]:
    """Every ordered pair of distinct entities within each sentence."""
    return [
        Pair(ref, head, tail)
        for ref, spans in zip(refs, entities, strict=True)
        for head in spans
        for tail in spans
        if head != tail
    ]


def encode_pairs(tokenizer, reports, pairs: Sequence[Pair], labels: Sequence[int], max_length: int):
    words = [
        marked_words(reports[p.ref.report].sentences[p.ref.sentence], p.head, p.tail, p.ref.start)
        for p in pairs
    ]
    if not words:
        return []
    encoded = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
    keys = [key for key in encoded if key != "attention_mask"]
    return [
        {**{key: encoded[key][i] for key in keys}, "labels": label}
        for i, label in enumerate(labels)
    ]


def relation_tuples(report: int, head: Span, tail: Span, label: str) -> tuple:
    return (report, head.start, head.end, head.label, tail.start, tail.end, tail.label, label)


def gold_relations(reports: Sequence[Report]) -> set[tuple]:
    return {
        relation_tuples(r, rel.head, rel.tail, rel.label)
        for r, report in enumerate(reports)
        for sentence in report.relations
        for rel in sentence
    }


def gold_entities(reports: Sequence[Report]) -> set[tuple]:
    return {
        (r, span.start, span.end, span.label)
        for r, report in enumerate(reports)
        for sentence in report.entities
        for span in sentence
    }


def spans_from_tags(tags: Sequence[str], start: int) -> tuple[Span, ...]:
    return tuple(Span(start + s, start + e, kind) for kind, s, e in get_entities(list(tags)))


class RelationTask:
    """Entity tagger + marker-based relation classifier over DyGIE-format reports."""

    def __init__(self, ctx: Context):
        ft = ctx.ft
        self.reports = read_report_splits(ft)
        self.refs = {split: sentence_refs(reports) for split, reports in self.reports.items()}
        self.tokenizer = load_tokenizer(ctx.encoder, "encoder.path")
        tagged = {
            split: tagged_sentences(self.reports[split], self.refs[split]) for split in self.refs
        }
        self.overlapping = {split: dropped for split, (_, dropped) in tagged.items()}
        self.entity_labels = tag_labels(
            [s.tags for sentences, _ in tagged.values() for s in sentences]
        )
        entity_types = sorted({label[2:] for label in self.entity_labels[1:]})
        self.marker_tokenizer = load_tokenizer(ctx.encoder, "encoder.path")
        self.marker_tokenizer.add_special_tokens(
            {"additional_special_tokens": marker_tokens(entity_types)}
        )
        entity_ids = {label: i for i, label in enumerate(self.entity_labels)}
        max_length, truncate = ft.ner.max_length, bool(ft.quirks.drop_long_sentences)
        self.sentences = {
            split: encode_sentences(self.tokenizer, sentences, entity_ids, max_length, truncate)
            for split, (sentences, _) in tagged.items()
        }
        train = self.reports["train"]
        self.relation_types = sorted({rel[-1] for rel in gold_relations(train)})
        self.relation_labels = [NO_RELATION, *self.relation_types]
        self.max_length = ft.re.max_length
        self.train_pairs = self.training_pairs(self.max_length)

    def training_pairs(self, max_length: int) -> list[dict]:
        """Ordered pairs of gold entities of the training reports, labelled from the gold."""
        reports, refs = self.reports["train"], self.refs["train"]
        entities = [reports[ref.report].entities[ref.sentence] for ref in refs]
        pairs = entity_pairs(refs, entities)
        gold = {
            (r, rel.head, rel.tail): rel.label
            for r, report in enumerate(reports)
            for sentence in report.relations
            for rel in sentence
        }
        label_ids = {label: i for i, label in enumerate(self.relation_labels)}
        labels = [label_ids[gold.get((p.ref.report, p.head, p.tail), NO_RELATION)] for p in pairs]
        return encode_pairs(self.marker_tokenizer, reports, pairs, labels, max_length)

    def data_stats(self) -> dict:
        return {
            split: {
                "reports": len(reports),
                "sentences": len(self.refs[split]),
                "overlapping_entities": self.overlapping[split],
                **({"relation_pairs": len(self.train_pairs)} if split == "train" else {}),
            }
            for split, reports in self.reports.items()
        }

    def fit(self, settings: Settings, ctx: Context) -> Outcome:
        """The tagger first (its dev and test entities predicted, its logger closed), then the
        relation classifier on the gold pairs, applied to the pairs of predicted entities."""
        from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

        features = self.sentences["train"].features
        tagger = train_head(
            AutoModelForTokenClassification,
            features,
            settings,
            ctx,
            self.tokenizer,
            "entities",
            self.entity_labels,
        )
        entities = {split: self.predict_entities(tagger, split) for split in ("dev", "test")}
        tagger.close()
        classifier = train_head(
            AutoModelForSequenceClassification,
            self.train_pairs,
            settings,
            ctx,
            self.marker_tokenizer,  # with the entity markers: the embeddings grow to it
            "relations",
            self.relation_labels,
        )
        metrics: dict = {
            "train": {"entity_loss": tagger.train_loss, "relation_loss": classifier.train_loss}
        }
        relations = {}
        for split in ("dev", "test"):
            relations[split] = self.predict_relations(classifier, split, entities[split])
            metrics[split] = self.score(split, entities[split], relations[split])

        def export(out: Path) -> None:
            tagger.save(out / "entities")
            classifier.save(out / "relations")

        rows = self.prediction_rows(entities["test"], relations["test"])
        return Outcome(metrics, export, rows, classifier)

    def predict_entities(self, tagger: Head, split: str) -> list[tuple[Span, ...]]:
        """Predicted entities of every sentence of ``split``."""
        tags = predict_tags(tagger, self.sentences[split], self.entity_labels)
        refs = self.refs[split]
        return [spans_from_tags(t, ref.start) for t, ref in zip(tags, refs, strict=True)]

    def predict_relations(self, classifier: Head, split: str, entities) -> set[tuple]:
        """Relation tuples of the ordered pairs of predicted entities (not ``no_relation``)."""
        pairs = entity_pairs(self.refs[split], entities)
        features = encode_pairs(
            self.marker_tokenizer, self.reports[split], pairs, [0] * len(pairs), self.max_length
        )
        logits = classifier.predict(features, ("logits",), per_token=False)
        relations = set()
        for pair, (row,) in zip(pairs, logits, strict=True):
            label = self.relation_labels[int(np.argmax(row))]
            if label != NO_RELATION:
                relations.add(relation_tuples(pair.ref.report, pair.head, pair.tail, label))
        return relations

    def score(self, split: str, entities, relations: set) -> dict:
        reports = self.reports[split]
        found = {
            (ref.report, span.start, span.end, span.label)
            for ref, spans in zip(self.refs[split], entities, strict=True)
            for span in spans
        }
        gold = gold_entities(reports)
        scores = relation_scores(gold_relations(reports), relations, self.relation_types)
        return {**scores, "entity": prf(len(gold & found), len(found), len(gold))}

    def prediction_rows(self, entities, relations: set) -> list[dict]:
        """Test predictions in the DyGIE prediction layout, one report per row."""
        reports = self.reports["test"]
        rows = [
            {
                "doc_key": report.doc_key,
                "predicted_ner": [[] for _ in report.sentences],
                "predicted_relations": [[] for _ in report.sentences],
            }
            for report in reports
        ]
        sentence_of = {}
        for ref, spans in zip(self.refs["test"], entities, strict=True):
            for span in spans:
                rows[ref.report]["predicted_ner"][ref.sentence].append(
                    [span.start, span.end, span.label]
                )
                sentence_of[(ref.report, span.start, span.end)] = ref.sentence
        for r, hs, he, _hl, ts, te, _tl, label in sorted(relations):
            sentence = sentence_of[(r, hs, he)]
            rows[r]["predicted_relations"][sentence].append([hs, he, ts, te, label])
        return rows
