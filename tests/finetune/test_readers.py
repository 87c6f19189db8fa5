"""Readers of the four formats: what they parse, and one-line errors naming file and line."""

import json

import pytest

from clinicalnotebert.config import SplitFiles
from clinicalnotebert.errors import UserError
from clinicalnotebert.finetune.readers import (
    Span,
    find_split_files,
    read_conll,
    read_dygie,
    read_sentence_pairs,
    read_squad,
    read_tagged_dataset,
)
from tests.finetune.files import write_jsonl, write_squad

NLI_LABELS = ["entailment", "neutral", "contradiction"]


def test_conll_sentences_tab_and_conll2003_columns(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text(
        "-DOCSTART- -X- O O\n\nAPC\tB-Disease\ngene\tO\n\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"
    )
    sentences = read_conll(path)
    assert [s.tokens for s in sentences] == [("APC", "gene"), ("EU", "rejects")]
    assert [s.tags for s in sentences] == [("B-Disease", "O"), ("B-ORG", "O")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\tO\nb\tX-Disease\n", "train.tsv:2: the last column is not a BIO tag"),
        ("a\tO\n\nlonely\n", "train.tsv:3: expected 'token<TAB>tag'"),
        ("\n\n", "train.tsv: no sentences"),
    ],
)
def test_conll_errors_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "train.tsv"
    path.write_text(text)
    with pytest.raises(UserError, match=message) as error:
        read_conll(path)
    assert "X-Disease" not in str(error.value) and "lonely" not in str(error.value)


def test_files_that_are_not_utf8_are_user_errors(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_bytes(b"a\tO\n\xff\xfe\tO\n")
    with pytest.raises(UserError, match="train.tsv: not valid UTF-8"):
        read_conll(path)


def test_sentence_pairs_and_their_errors(tmp_path):
    row = {"sentence1": "No fever.", "sentence2": "Afebrile.", "gold_label": "entailment"}
    path = write_jsonl(tmp_path / "dev.jsonl", [row, {**row, "gold_label": "contradiction"}])
    assert [p.label for p in read_sentence_pairs(path, NLI_LABELS)] == [
        "entailment",
        "contradiction",
    ]
    write_jsonl(path, [row, {**row, "gold_label": "-"}])
    with pytest.raises(UserError, match=r"dev.jsonl:2: gold_label is not one of"):
        read_sentence_pairs(path, NLI_LABELS)
    path.write_text(json.dumps(row) + "\n{not json\n")
    with pytest.raises(UserError, match=r"dev.jsonl:2: not valid JSON"):
        read_sentence_pairs(path, NLI_LABELS)
    write_jsonl(path, [{"sentence1": "a", "gold_label": "neutral"}])
    with pytest.raises(UserError, match=r"dev.jsonl:1: 'sentence2' is missing"):
        read_sentence_pairs(path, NLI_LABELS)


def test_covid_qa_offsets_are_repaired(shared_data):
    parsed = read_squad(shared_data / "covid_qa" / "200423_covidQA.json")
    assert len(parsed.questions) == 1380
    assert parsed.repaired == 234  # SOURCE.txt: answer_start one off for 234 answers
    for question in parsed.questions:
        for answer in question.answers:
            assert question.context[answer.start : answer.start + len(answer.text)] == answer.text
            assert answer.text == answer.text.strip()


def test_squad_picks_the_occurrence_nearest_the_given_offset(tmp_path):
    context = "dog cat dog cat dog"
    path = write_squad(tmp_path / "a.json", [("q", "which?", context, [("cat", 13)])])
    (answer,) = read_squad(path).questions[0].answers
    assert answer.start == 12 and read_squad(path).repaired == 1


def test_squad_v2_unanswerable_and_errors(tmp_path):
    path = write_squad(tmp_path / "dev.json", [("q1", "why?", "no answer here", [])])
    assert read_squad(path).questions[0].answers == ()
    write_squad(path, [("q1", "why?", "short context", [("elsewhere", 0)])])
    with pytest.raises(
        UserError,
        match=r"dev.json: data\[0\].paragraphs\[0\], question id q1: answers\[0\] is not in",
    ):
        read_squad(path)
    path.write_text('{"data": [\n  {"paragraphs": [}\n]}')
    with pytest.raises(UserError, match=r"dev.json:2: not valid JSON"):
        read_squad(path)
    path.write_text(json.dumps({"data": [{"paragraphs": [{"context": "c", "qas": [{"id": 1}]}]}]}))
    with pytest.raises(UserError, match=r"question id 1: 'answers' is missing"):
        read_squad(path)


REPORT = {
    "doc_key": "r1",
    "sentences": [["Small", "effusion", "."], ["Left", "lung", "clear"]],
    "ner": [[[1, 1, "OBS-DP"], [0, 0, "OBS-DP"]], [[3, 4, "ANAT-DP"], [5, 5, "OBS-DP"]]],
    "relations": [[[0, 0, 1, 1, "modify"]], [[5, 5, 3, 4, "located_at"]]],
}


def test_dygie_reports_use_document_level_spans(tmp_path):
    (report,) = read_dygie(write_jsonl(tmp_path / "train.jsonl", [REPORT]))
    assert report.sentence_starts() == [0, 3]
    assert report.entities[1] == (Span(3, 4, "ANAT-DP"), Span(5, 5, "OBS-DP"))
    (relation,) = report.relations[1]
    assert (relation.head, relation.tail, relation.label) == (
        Span(5, 5, "OBS-DP"),
        Span(3, 4, "ANAT-DP"),
        "located_at",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ner": [[[1, 3, "OBS-DP"]], []]}, r"test.jsonl:2: ner\[0\]: span \[1, 3\] is outside"),
        ({"relations": [[[0, 0, 2, 2, "modify"]], []]}, r"test.jsonl:2: relations\[0\]: relation"),
        ({"ner": [[]]}, r"test.jsonl:2: 'ner' needs one list per sentence \(2\)"),
    ],
)
def test_dygie_errors_name_file_and_line(tmp_path, change, message):
    path = write_jsonl(tmp_path / "test.jsonl", [REPORT, {**REPORT, **change}])
    with pytest.raises(UserError, match=message):
        read_dygie(path)


def test_split_files_by_name(tmp_path):
    mednli, radgraph = tmp_path / "mednli", tmp_path / "radgraph"
    for directory, names in (
        (mednli, ("mli_train_v1.jsonl", "mli_dev_v1.jsonl", "mli_test_v1.jsonl", "notes.txt")),
        (radgraph, ("train.jsonl", "dev.jsonl", "test.jsonl", "test-CheXpert-labeler_1.jsonl")),
    ):
        directory.mkdir()
        for name in names:
            (directory / name).write_text("")
    files = find_split_files(mednli, (".jsonl",), SplitFiles())
    assert [files[split].name for split in ("train", "dev", "test")] == [
        "mli_train_v1.jsonl",
        "mli_dev_v1.jsonl",
        "mli_test_v1.jsonl",
    ]
    assert (
        find_split_files(radgraph, (".jsonl",), SplitFiles())["test"].name == "test.jsonl"
    )  # exact name
    (mednli / "test-CheXpert-labeler_1.jsonl").write_text("")
    with pytest.raises(UserError, match=r"need one test file .* finetune.files.test="):
        find_split_files(mednli, (".jsonl",), SplitFiles())
    chosen = find_split_files(
        radgraph, (".jsonl",), SplitFiles(test="test-CheXpert-labeler_1.jsonl")
    )
    assert chosen["test"].name == "test-CheXpert-labeler_1.jsonl"
    with pytest.raises(UserError, match=r"finetune.files.dev: '.*dev2.jsonl' does not exist"):
        find_split_files(radgraph, (".jsonl",), SplitFiles(dev="dev2.jsonl"))


def test_tagged_datasetdict_with_class_labels(tmp_path):
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Sequence, Value

    features = Features(
        {
            "tokens": Sequence(Value("string")),
            "ner_tags": Sequence(ClassLabel(names=["O", "B-problem", "I-problem"])),
        }
    )
    split = Dataset.from_dict(
        {"tokens": [["chest", "pain"]], "ner_tags": [[1, 2]]}, features=features
    )
    DatasetDict({"train": split, "validation": split, "test": split}).save_to_disk(tmp_path / "d")
    splits = read_tagged_dataset(tmp_path / "d")
    assert splits["dev"][0].tags == ("B-problem", "I-problem")
    assert splits["test"][0].tokens == ("chest", "pain")
