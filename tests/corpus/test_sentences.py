"""Sentence splitters: the rule-based default (hand-checked cases, real notes) and the factory."""

from __future__ import annotations

import re
import statistics
import sys

import pytest

from clinicalnotebert.corpus.sentences import (
    ABBREVIATIONS,
    RuleSentenceSplitter,
    SpacySentenceSplitter,
    get_sentence_splitter,
)
from clinicalnotebert.errors import UserError
from tests.corpus import mtsamples_notes

split = RuleSentenceSplitter()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Seen by Dr. Smith today. He is better.", ["Seen by Dr. Smith today.", "He is better."]),
        ("Pt. was seen. Mrs. Jones and Mr. Lee agreed.", ["Pt. was seen.", "Mrs. Jones and Mr. Lee agreed."]),
        ("Aspirin 81 mg p.o. q.d. Metoprolol 25 mg p.o. b.i.d.", ["Aspirin 81 mg p.o. q.d. Metoprolol 25 mg p.o. b.i.d."]),
        ("Symptoms, e.g. Fever and i.e. Chills. Rest.", ["Symptoms, e.g. Fever and i.e. Chills.", "Rest."]),
        ("Mass approx. 3 cm vs. Cyst. Follow up.", ["Mass approx. 3 cm vs. Cyst.", "Follow up."]),
        ("Nausea, vomiting, etc. The rest is normal.", ["Nausea, vomiting, etc. The rest is normal."]),
        ("Seen at 8 a.m. Then again at 5 p.m. Stable.", ["Seen at 8 a.m. Then again at 5 p.m. Stable."]),
    ],
)  # fmt: skip
def test_abbreviations_do_not_end_sentences(text, expected):
    assert split(text) == expected


def test_abbreviation_list_holds_clinical_and_english_forms():
    for abbreviation in ("dr", "mr", "mrs", "ms", "vs", "e.g", "i.e", "approx", "pt", "b.i.d",
                         "t.i.d", "q.d", "p.o", "p.r.n", "a.m", "p.m", "mg", "etc"):  # fmt: skip
        assert abbreviation in ABBREVIATIONS


def test_decimals_are_not_boundaries():
    assert split("Creatinine 1.2 mg/dL. Potassium 4.5 today. Give 0.5 mg.") == [
        "Creatinine 1.2 mg/dL.",
        "Potassium 4.5 today.",
        "Give 0.5 mg.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. Aspirin 81 mg daily. 2. Lisinopril daily.", ["1. Aspirin 81 mg daily.", "2. Lisinopril daily."]),
        # Inline items: each number one above the last starts a sentence.
        ("1. Aspirin 2. Lisinopril 3. Metoprolol", ["1. Aspirin", "2. Lisinopril", "3. Metoprolol"]),
        ("Impression: 1. CHF 2. Pneumonia.", ["Impression: 1. CHF", "2. Pneumonia."]),
        # Text whose newlines became commas: the glued numbers are list numbers.
        ("PLAN:,1.  Rest.,2.  Ice.", ["PLAN:,1.  Rest.,2.  Ice."]),
        ("Meds:\n1. Aspirin\n2. Tylenol", ["Meds:", "1. Aspirin", "2. Tylenol"]),
        ("Problems:\n4. Anemia\n5. CKD", ["Problems:", "4. Anemia", "5. CKD"]),
    ],
)  # fmt: skip
def test_list_numbers(text, expected):
    assert split(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BP 120/80. HR 88. RR 16.", ["BP 120/80.", "HR 88.", "RR 16."]),
        ("BP 120/80. hr 88", ["BP 120/80. hr 88"]),
        ("T 98.6. 120/80 on arrival.", ["T 98.6. 120/80 on arrival."]),
        ("SpO2 95%. Lungs clear.", ["SpO2 95%.", "Lungs clear."]),
        ("SpO2 95%. 2L NC.", ["SpO2 95%. 2L NC."]),
        # A value after a label is a measurement, not a list number (only a 1 opens a list).
        ("Pulse:  72.  Respirations:  16.  LMP: today.", ["Pulse:  72.", "Respirations:  16.", "LMP: today."]),
        ("WBC 12,000. Hgb 9.", ["WBC 12,000.", "Hgb 9."]),
        # After a word, a sentence may start with a digit.
        ("He was admitted. 2 days later he improved.", ["He was admitted.", "2 days later he improved."]),
    ],
)  # fmt: skip
def test_vitals_and_numbers(text, expected):
    assert split(text) == expected


def test_initials():
    assert split("Seen by J. Smith. Plan discussed.") == ["Seen by J. Smith.", "Plan discussed."]


def test_question_and_exclamation_marks():
    assert split("Chest pain? Denies. Fever? Yes! Chills? no.") == [
        "Chest pain?",
        "Denies.",
        "Fever?",
        "Yes!",
        "Chills? no.",
    ]
    # A detached '?' is the clinical 'possible' mark, not the end of a question.
    assert split("Concern for ? PNA. Start abx.") == ["Concern for ? PNA.", "Start abx."]


def test_closing_quotes_brackets_and_ellipses_stay_with_their_sentence():
    assert split('He said "yes." Then left. (See above.) Pain improved... Will continue.') == [
        'He said "yes."',
        "Then left.",
        "(See above.)",
        "Pain improved...",
        "Will continue.",
    ]


def test_newlines():
    # A hard wrap is not a boundary, even before a capital.
    assert split("Admitted with\nChest pain and fever.") == ["Admitted with\nChest pain and fever."]
    # Bullets, blank lines and a label that ends its line are.
    assert split("Plan:\n- CXR\n* CBC\n\nfollow up") == ["Plan:", "- CXR", "* CBC", "follow up"]


def test_no_empty_sentences():
    assert split("") == []
    assert split(" \n\t ") == []
    assert split("  .  ") == ["."]
    assert split("Done.   \n\n\n   Next.  ") == ["Done.", "Next."]


def test_large_text_with_long_runs_finishes():
    # About 1 MB; the long runs would be rescanned from every position by a naive pattern.
    prose = (
        "Pt is a 70 y.o. man. BP 120/80. HR 88. Seen by Dr. Smith? Yes.\n1. Aspirin 2. Tylenol.\n"
    )
    runs = "." * 100_000 + " \n" * 50_000 + "?" * 50_000 + "x" * 100_000
    text = runs + "\n\n" + prose * 10_000
    sentences = split(text)
    assert sentences.count("Pt is a 70 y.o. man.") == 10_000
    assert sentences.count("2. Tylenol.") == 10_000


def _sentence_spans(note: str, sentences: list[str]) -> list[tuple[int, int]]:
    """Where each sentence lies in the note, searching forward; fails if one is not there."""
    spans, position = [], 0
    for sentence in sentences:
        start = note.find(sentence, position)
        assert start >= 0, "a sentence is not a substring of the note after the previous one"
        position = start + len(sentence)
        spans.append((start, position))
    return spans


def test_real_notes_split_sanely(shared_data):
    notes = mtsamples_notes(shared_data)
    lengths, mid_decimal, after_abbreviation = [], 0, 0
    for note in notes:
        sentences = split(note)
        assert sentences
        assert all(sentence and sentence == sentence.strip() for sentence in sentences)
        spans = _sentence_spans(note, sentences)
        for (_, end), next_sentence in zip(spans, [*sentences[1:], None], strict=True):
            ends_in_number = re.search(r"\d\.$", note[:end]) is not None
            if next_sentence is None or not ends_in_number:
                continue
            mid_decimal += note[end : end + 1].isdigit() or next_sentence[0].isdigit()
        for sentence in sentences[:-1]:
            after_abbreviation += sentence.split()[-1].lower().rstrip(".") in ABBREVIATIONS
        lengths += [len(sentence.split()) for sentence in sentences]
    assert mid_decimal == 0
    assert after_abbreviation == 0
    # Clinical prose runs about 10-25 words a sentence; never splitting would give ~370 (the
    # mean note length), splitting at every '.' far fewer than 10.
    assert 10 <= statistics.mean(lengths) <= 30


def test_get_sentence_splitter():
    assert isinstance(get_sentence_splitter("rules"), RuleSentenceSplitter)
    for bad in ("nltk", "spacy", "spacy:", "Rules"):
        with pytest.raises(
            UserError, match=r"prepare\.sentence_splitter.*'rules' or 'spacy:<model>'"
        ):
            get_sentence_splitter(bad)


def test_spacy_splitter_without_spacy_is_a_user_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "spacy", None)  # makes 'import spacy' raise ImportError
    with pytest.raises(UserError, match=r"spacy:en_core_sci_sm.*pip install"):
        get_sentence_splitter("spacy:en_core_sci_sm")


def test_spacy_splitter_with_a_missing_model_is_a_user_error():
    pytest.importorskip("spacy")
    with pytest.raises(UserError, match=r"'no_such_model_xyz' is not installed"):
        SpacySentenceSplitter("no_such_model_xyz")


def test_spacy_splitter_uses_the_pipeline_sentences(tmp_path):
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "pipeline")
    splitter = get_sentence_splitter(f"spacy:{tmp_path / 'pipeline'}")
    assert splitter("Chest pain resolved.  He went home.\n") == [
        "Chest pain resolved.",
        "He went home.",
    ]
