"""split_note end to end (docs/reference.md §1.4): cleanup, segments, sentences and the three text outputs."""

from __future__ import annotations

from clinicalnotebert.corpus.note_texts import NoteTexts, split_note
from clinicalnotebert.corpus.sentences import RuleSentenceSplitter
from tests.corpus import mtsamples_notes

NOTE = (
    "Admission Date:  [**2151-7-16**]       Discharge Date:  [**2151-8-4**]\n\n"
    "Service: MEDICINE\n\n"
    "Chief Complaint:\nchest pain\n\n"
    "History of Present Illness:\n"
    "Mr. [**Known lastname 52**] is a 72 y.o. man seen by Dr. [**Last Name (STitle) 1604**]. He had\n"
    "chest pain for 2 days. BP 150/90. HR 88.\n\n"
    "Discharge Medications:\n1. Aspirin 81 mg daily\n2. Metoprolol 25 mg b.i.d.\n\n"
    "Followup Instructions:\n___\n"
)


def test_split_note_end_to_end():
    texts = split_note(NOTE, RuleSentenceSplitter())
    # Worked out by hand: placeholders cleaned, '___' deleted, header fields and one-line
    # answers joined to their titles, the list split per item, the HPI split into sentences
    # (no cut after Mr., y.o., Dr.; a cut after the vitals before a capital).
    hpi = [
        "Mr. Known lastname is a 72 y.o. man seen by Dr. Last Name.",
        "He had chest pain for 2 days.",
        "BP 150/90.",
        "HR 88.",
    ]
    before = [
        "Admission Date: 2151-7-16",
        "Discharge Date: 2151-8-4",
        "Service: MEDICINE",
        "Chief Complaint: chest pain",
        "History of Present Illness:",
    ]
    after = [
        "Discharge Medications:",
        "1. Aspirin 81 mg daily",
        "2. Metoprolol 25 mg b.i.d.",
        "Followup Instructions:",
    ]
    assert texts.sentences == [*before, *hpi, *after]
    assert texts.segments == [*before, " ".join(hpi), *after]
    assert texts.note == " ".join([*before, *hpi, *after])


def test_separator_segments_are_dropped():
    # '-==-==-' becomes '---' once '==' is deleted, which the segmenter turns into '-----'.
    received = []

    def splitter(segment: str) -> list[str]:
        received.append(segment)
        return [segment]

    texts = split_note("Findings stable.\n-==-==-\nNo change.", splitter)
    assert received == ["Findings stable.", "No change."]
    assert texts == NoteTexts((("Findings stable.",), ("No change.",)))
    assert texts.segments == ["Findings stable.", "No change."]
    assert texts.note == "Findings stable. No change."


def test_sentences_are_cleaned_and_empty_ones_dropped():
    # A splitter that returns padded, multi-line and blank pieces.
    def splitter(segment: str) -> list[str]:
        return [f"  {part}\n" for part in segment.split("|")]

    # Segments: 'one|two\nlines| \n|three', '|' (no sentence left: dropped), 'Chief Complaint:'.
    texts = split_note("one|two\nlines| \n|three\n\n | \n\nChief Complaint:", splitter)
    assert texts.sentences == ["one", "two lines", "three", "Chief Complaint:"]
    assert texts.segments == ["one two lines three", "Chief Complaint:"]
    assert texts.note == "one two lines three Chief Complaint:"


def test_empty_note():
    texts = split_note(" \n\n ", RuleSentenceSplitter())
    assert texts == NoteTexts(())
    assert (texts.sentences, texts.segments, texts.note) == ([], [], "")


def test_real_notes_keep_the_output_invariants(shared_data):
    notes = mtsamples_notes(shared_data)
    splitter = RuleSentenceSplitter()
    for note in notes:
        texts = split_note(note, splitter)
        for line in (*texts.sentences, *texts.segments):
            assert line and line == line.strip() and "\n" not in line
        assert texts.note == " ".join(texts.segments) == " ".join(texts.sentences)
        assert len(texts.segments) <= len(texts.sentences)
