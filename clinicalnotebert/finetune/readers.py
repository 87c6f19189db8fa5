"""Readers of the fine-tuning formats (docs/reference.md §7); errors name the file and line.

- sentence pairs: JSONL with ``sentence1``, ``sentence2``, ``gold_label`` (MedNLI);
- tagged sentences: CoNLL ``token<TAB>tag`` with BIO tags, blank line between sentences, or a
  datasets ``DatasetDict`` dir with ``tokens`` / ``ner_tags`` (the reference's i2b2 layout);
- questions: SQuAD JSON, v1 and v2 (``is_impossible``, RadQA); answer offsets are repaired;
- reports: DyGIE JSONL (``sentences``, ``ner``, ``relations``; RadGraph), document-level
  token indices with inclusive ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from clinicalnotebert.config import SplitFiles, SplitLimits
from clinicalnotebert.errors import UserError, require
from clinicalnotebert.io import read_text_utf8, text_lines

# File-name words that mark a split ("mli_dev_v1.jsonl", "devel.tsv", "test.json").
SPLIT_NAMES = {
    "train": ("train",),
    "dev": ("dev", "devel", "validation", "valid", "val"),
    "test": ("test",),
}
BIO_TAG = re.compile(r"O|[BI]-\S+")


def find_split_files(
    directory: str | Path, extensions: tuple[str, ...], explicit: SplitFiles
) -> dict[str, Path]:
    """``{"train", "dev", "test"} -> file`` in ``directory``: named in ``explicit`` (the
    ``finetune.files`` keys), else the one file whose name is the split's name or contains it."""
    directory = Path(directory)
    require(
        directory.is_dir(),
        f"finetune.path '{directory}' is not a directory (set finetune.path=<dir with the splits>)",
    )
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in extensions)
    return {
        split: explicit_file(directory, split, getattr(explicit, split))
        or discovered_file(directory, split, files)
        for split in SPLIT_NAMES
    }


def explicit_file(directory: Path, split: str, name: str | None) -> Path | None:
    if not name:
        return None
    path = directory / name
    require(path.is_file(), f"finetune.files.{split}: '{path}' does not exist")
    return path


def discovered_file(directory: Path, split: str, files: list[Path]) -> Path:
    names = SPLIT_NAMES[split]
    exact = [p for p in files if p.stem.lower() in names]
    partial = [p for p in files if set(re.split(r"[^a-z0-9]+", p.stem.lower())) & set(names)]
    candidates = exact or partial
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(p.name for p in candidates) if candidates else "none"
    raise UserError(
        f"finetune.path '{directory}': need one {split} file named like {'/'.join(names)} "
        f"(found: {found}); name it with finetune.files.{split}=..."
    )


def jsonl_objects(path: Path) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line of a JSONL file."""
    require(path.is_file(), f"{path}: file does not exist")
    for number, line in text_lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        require(isinstance(obj, dict), f"{path}:{number}: expected a JSON object")
        yield number, obj


def field(obj: Mapping, key: str, kind: type | tuple[type, ...], where: str):
    """``obj[key]``, checked to be present and of ``kind``."""
    require(isinstance(obj, Mapping), f"{where}: expected a JSON object")
    require(key in obj, f"{where}: '{key}' is missing")
    value = obj[key]
    require(isinstance(value, kind), f"{where}: '{key}' has the wrong type")
    return value


# ---- sentence pairs (NLI) ----


@dataclass(frozen=True)
class SentencePair:
    sentence1: str
    sentence2: str
    label: str


def read_sentence_pairs(path: Path, labels: list[str]) -> list[SentencePair]:
    pairs = []
    for number, obj in jsonl_objects(path):
        where = f"{path}:{number}"
        label = field(obj, "gold_label", str, where)
        require(label in labels, f"{where}: gold_label is not one of {labels}")
        s1, s2 = field(obj, "sentence1", str, where), field(obj, "sentence2", str, where)
        pairs.append(SentencePair(s1, s2, label))
    require(bool(pairs), f"{path}: no sentence pairs")
    return pairs


# ---- tagged sentences (NER) ----


@dataclass(frozen=True)
class TaggedSentence:
    tokens: tuple[str, ...]
    tags: tuple[str, ...]


def read_conll(path: Path) -> list[TaggedSentence]:
    """CoNLL: ``token<TAB>tag`` (or whitespace-separated columns, tag last), blank line between
    sentences; ``-DOCSTART-`` lines are skipped."""
    require(path.is_file(), f"{path}: file does not exist")
    sentences: list[TaggedSentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    for number, raw in text_lines(path):
        line = raw.rstrip("\r\n")
        if not line.strip():
            if tokens:
                sentences.append(TaggedSentence(tuple(tokens), tuple(tags)))
            tokens, tags = [], []
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        if columns[0] == "-DOCSTART-":
            continue
        require(len(columns) >= 2, f"{path}:{number}: expected 'token<TAB>tag'")
        tag = columns[-1].strip()
        require(
            BIO_TAG.fullmatch(tag) is not None,
            f"{path}:{number}: the last column is not a BIO tag (O, B-TYPE or I-TYPE)",
        )
        tokens.append(columns[0])
        tags.append(tag)
    if tokens:
        sentences.append(TaggedSentence(tuple(tokens), tuple(tags)))
    require(bool(sentences), f"{path}: no sentences")
    return sentences


def read_tagged_dataset(directory: Path) -> dict[str, list[TaggedSentence]]:
    """A ``DatasetDict`` saved with ``save_to_disk``: splits train / validation (or dev) / test,
    columns ``tokens`` and ``ner_tags`` (ClassLabel ids or tag strings)."""
    from datasets import load_from_disk

    try:
        splits = load_from_disk(str(directory))
    except (OSError, ValueError) as exc:
        raise UserError(f"{directory}: not a saved datasets DatasetDict ({exc})") from None
    return {split: dataset_split(directory, splits, split) for split in SPLIT_NAMES}


def dataset_split(directory: Path, splits, split: str) -> list[TaggedSentence]:
    names = [name for name in SPLIT_NAMES[split] if name in splits]
    require(bool(names), f"{directory}: no {split} split (have: {', '.join(splits)})")
    dataset = splits[names[0]]
    for column in ("tokens", "ner_tags"):
        require(
            column in dataset.column_names, f"{directory}/{names[0]}: column '{column}' missing"
        )
    feature = dataset.features["ner_tags"].feature
    to_tag = feature.int2str if hasattr(feature, "int2str") else str
    sentences = []
    for row, (tokens, ids) in enumerate(zip(dataset["tokens"], dataset["ner_tags"], strict=True)):
        tags = tuple(to_tag(i) for i in ids)
        where = f"{directory}/{names[0]} row {row}"
        require(len(tags) == len(tokens), f"{where}: tokens and ner_tags differ in length")
        for tag in tags:
            require(BIO_TAG.fullmatch(tag) is not None, f"{where}: a tag is not BIO")
        if tokens:
            sentences.append(TaggedSentence(tuple(tokens), tags))
    return sentences


# ---- questions (SQuAD) ----


@dataclass(frozen=True)
class Answer:
    text: str
    start: int  # character offset into the context


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    context: str
    answers: tuple[Answer, ...]  # empty: unanswerable (SQuAD v2)
    paragraph: int  # index of its paragraph in the file


@dataclass
class QuestionFile:
    questions: list[Question]
    repaired: int  # answers whose answer_start did not point at their text


def read_squad(path: Path) -> QuestionFile:
    require(path.is_file(), f"{path}: file does not exist")
    try:
        root = json.loads(read_text_utf8(path))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    require(isinstance(root, dict), f"{path}: expected a SQuAD object with 'data'")
    parsed = QuestionFile([], 0)
    paragraph_index = 0
    for a, article in enumerate(field(root, "data", list, str(path))):
        for p, paragraph in enumerate(field(article, "paragraphs", list, f"{path}: data[{a}]")):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            context = field(paragraph, "context", str, where)
            for qa in field(paragraph, "qas", list, where):
                parsed.questions.append(parse_question(qa, context, paragraph_index, where, parsed))
            paragraph_index += 1
    require(bool(parsed.questions), f"{path}: no questions")
    return parsed


def parse_question(qa, context: str, paragraph: int, where: str, parsed: QuestionFile) -> Question:
    require(isinstance(qa, dict), f"{where}: a question is not an object")
    qid = str(field(qa, "id", (str, int), where))
    where = f"{where}, question id {qid}"
    answers: list[Answer] = []
    if not qa.get("is_impossible", False):
        for number, item in enumerate(field(qa, "answers", list, where)):
            text = field(item, "text", str, where)
            start = field(item, "answer_start", int, where)
            answer = locate_answer(context, text, start)
            # the message names the answer by position: its text may be note text (PHI)
            require(answer is not None, f"{where}: answers[{number}] is not in the context")
            parsed.repaired += context[start : start + len(text)] != text
            answers.append(answer)
    return Question(qid, field(qa, "question", str, where), context, tuple(answers), paragraph)


def locate_answer(context: str, text: str, start: int) -> Answer | None:
    """The answer without surrounding whitespace, at its occurrence nearest to ``start``
    (COVID-QA has 234 answers whose offset is one character off)."""
    stripped = text.strip()
    if not stripped:
        return None
    expected = start + len(text) - len(text.lstrip())
    if context.startswith(stripped, expected):
        return Answer(stripped, expected)
    occurrences = [m.start() for m in re.finditer(re.escape(stripped), context)]
    if not occurrences:
        return None
    return Answer(stripped, min(occurrences, key=lambda at: abs(at - expected)))


# ---- reports with entities and relations (DyGIE / RadGraph) ----


@dataclass(frozen=True)
class Span:
    start: int  # document-level token index
    end: int  # inclusive
    label: str


@dataclass(frozen=True)
class Relation:
    head: Span
    tail: Span
    label: str


@dataclass(frozen=True)
class Report:
    doc_key: str
    sentences: tuple[tuple[str, ...], ...]
    entities: tuple[tuple[Span, ...], ...]  # per sentence
    relations: tuple[tuple[Relation, ...], ...]  # per sentence

    def sentence_starts(self) -> list[int]:
        """Document-level index of each sentence's first token."""
        starts, total = [], 0
        for sentence in self.sentences:
            starts.append(total)
            total += len(sentence)
        return starts


def read_dygie(path: Path) -> list[Report]:
    reports = [parse_report(obj, f"{path}:{number}") for number, obj in jsonl_objects(path)]
    require(bool(reports), f"{path}: no documents")
    return reports


def parse_report(obj: dict, where: str) -> Report:
    sentences = field(obj, "sentences", list, where)
    require(
        all(isinstance(s, list) and all(isinstance(t, str) for t in s) for s in sentences),
        f"{where}: 'sentences' must be lists of token strings",
    )
    ner = field(obj, "ner", list, where)
    relations = obj.get("relations", [[] for _ in sentences])
    for key, value in (("ner", ner), ("relations", relations)):
        require(
            isinstance(value, list) and len(value) == len(sentences),
            f"{where}: '{key}' needs one list per sentence ({len(sentences)})",
        )
    entities, links, start = [], [], 0
    for index, sentence in enumerate(sentences):
        bounds = (start, start + len(sentence) - 1)
        spans = tuple(parse_span(item, bounds, f"{where}: ner[{index}]") for item in ner[index])
        entities.append(spans)
        links.append(parse_relations(relations[index], spans, f"{where}: relations[{index}]"))
        start += len(sentence)
    doc_key = str(obj.get("doc_key", where))
    return Report(doc_key, tuple(map(tuple, sentences)), tuple(entities), tuple(links))


def parse_span(item, bounds: tuple[int, int], where: str) -> Span:
    require(
        isinstance(item, list) and len(item) == 3 and isinstance(item[2], str),
        f"{where}: an entity must be [start, end, label]",
    )
    start, end, label = item
    require(
        isinstance(start, int) and isinstance(end, int) and bounds[0] <= start <= end <= bounds[1],
        f"{where}: span [{start}, {end}] is outside its sentence {list(bounds)}",
    )
    return Span(start, end, label)


def parse_relations(items, spans: tuple[Span, ...], where: str) -> tuple[Relation, ...]:
    labels = {(span.start, span.end): span for span in spans}
    parsed = []
    for item in items:
        require(
            isinstance(item, list) and len(item) == 5 and isinstance(item[4], str),
            f"{where}: a relation must be [start1, end1, start2, end2, label]",
        )
        head, tail = labels.get(tuple(item[0:2])), labels.get(tuple(item[2:4]))
        require(
            head is not None and tail is not None,
            f"{where}: relation {item} has an argument that is not an entity of its sentence",
        )
        parsed.append(Relation(head, tail, item[4]))
    return tuple(parsed)


def first_examples(splits: dict[str, list], max_examples: SplitLimits) -> dict[str, list]:
    """Each split cut to its first ``finetune.max_examples.<split>`` items (null: all)."""
    return {split: items[: getattr(max_examples, split) or None] for split, items in splits.items()}
