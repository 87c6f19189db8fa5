"""The heuristic segmenter (docs/reference.md §1.3); expectations worked out by hand from the seven steps."""

from __future__ import annotations

import pytest

from clinicalnotebert.corpus.segmenter import is_separator_segment, is_title, segment_note


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chief Complaint:", True),
        ("Review of Systems:", True),  # of / on / or may be lower case
        ("Condition on Discharge:", True),
        ("Hepatitis or Cirrhosis:", True),
        ("Past Medical History (PMH):", True),  # (...) groups are ignored
        ("Labs (see below):", True),
        ("HEENT:", True),
        ("Plan of care:", False),
        ("Allergies and Reactions:", False),
        ("BP 120/80:", False),
        ("Disp:", False),  # the medication field is not a title
        ("Dispo:", True),
        ("Chief Complaint", False),  # no colon
        ("Impression: ", False),  # must end with the colon
    ],
)
def test_is_title(text, expected):
    assert is_title(text) is expected


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("-----", True),
        ("_____", True),
        (" ___ ", True),
        ("-", True),
        ("-_-", False),
        ("--a", False),
        ("", False),
    ],
)
def test_is_separator_segment(segment, expected):
    assert is_separator_segment(segment) is expected


def test_admission_and_birth_header_lines():
    text = (
        "Admission Date:  2151-7-16       Discharge Date:  2151-8-4\n\n"
        "Date of Birth:  2079-5-10             Sex:   M\n\n"
        "Service: MEDICINE"
    )
    # Step 2 emits eight fields, step 3 splits 'Service:' off, step 7 joins each one-line
    # answer to the title before it (each is followed by a title or the end).
    assert segment_note(text) == [
        "Admission Date: 2151-7-16",
        "Discharge Date: 2151-8-4",
        "Date of Birth: 2079-5-10",
        "Sex: M",
        "Service: MEDICINE",
    ]


def test_birth_header_is_tested_even_without_admission_header():
    text = "Date of Birth:  2079-5-10   Sex:   F\n\nHistory: none"
    assert segment_note(text) == ["Date of Birth: 2079-5-10", "Sex: F", "History: none"]


def test_header_line_drops_the_rest_of_its_block():
    # As in the reference: the matched block is replaced by the four fields, whole. '2' is
    # followed by 'Kept.', not a title, so it stays apart from its title.
    text = "Admission Date: 1 Discharge Date: 2\nlost line\n\nKept."
    assert segment_note(text) == ["Admission Date: 1", "Discharge Date:", "2", "Kept."]


def test_header_line_alone():
    assert segment_note("Admission Date: 1 Discharge Date: 2") == [
        "Admission Date: 1",
        "Discharge Date: 2",
    ]


def test_empty_notes():
    assert segment_note("") == []
    assert segment_note("  \n\n \n\n") == []


def test_section_titles():
    text = (
        "Chief Complaint:\nchest pain\n"
        "History of Present Illness:\nThe patient is a 60 yo man.\n"
        "Past Medical History (PMH):\nHTN\nDisp:\n30 tablets"
    )
    # 'Disp:' is not a title, so the last section stays one multi-line segment.
    assert segment_note(text) == [
        "Chief Complaint: chest pain",
        "History of Present Illness: The patient is a 60 yo man.",
        "Past Medical History (PMH):",
        "HTN\nDisp:\n30 tablets",
    ]


def test_title_candidates_need_a_capital_start_and_title_words():
    text = "Exam notable for:\nmild edema\nthe plan: rest"
    assert segment_note(text) == [text]


def test_separators_and_the_one_line_answer_fix():
    text = "Findings are stable.\n-------\nImpression: none\n________\nSigned"
    # 'none' follows a title, but the next segment is a separator, not a title: the fixed
    # rule keeps it as its own segment (the reference dropped it).
    assert segment_note(text) == [
        "Findings are stable.",
        "-----",
        "Impression:",
        "none",
        "_____",
        "Signed",
    ]


def test_multi_line_answer_is_not_joined_to_its_title():
    assert segment_note("Allergies:\nPenicillin\nSulfa") == ["Allergies:", "Penicillin\nSulfa"]


def test_numbered_list_after_a_title():
    text = (
        "Discharge Medications:\n1. Aspirin 81 mg daily\n2. Lisinopril 10 mg daily\n"
        "3. Atorvastatin 40 mg nightly\nFollowup with PCP."
    )
    # The first item follows a title but is followed by an item, not a title: kept on its own
    # (the reference lost it). The last item keeps the text after it.
    assert segment_note(text) == [
        "Discharge Medications:",
        "1. Aspirin 81 mg daily",
        "2. Lisinopril 10 mg daily",
        "3. Atorvastatin 40 mg nightly\nFollowup with PCP.",
    ]


def test_numbered_list_not_starting_at_one():
    text = "Problems continued\n4. Anemia\n   5. CKD\n6. Gout"
    assert segment_note(text) == ["Problems continued", "4. Anemia", "5. CKD", "6. Gout"]


def test_numbered_list_stops_at_a_gap():
    # start = 1 and n = 2 ('3.' is missing): two cuts, so '4.' stays with item 2.
    assert segment_note("1. A\n2. B\n4. D") == ["1. A", "2. B\n4. D"]


def test_numbers_with_leading_zeros_are_not_a_list():
    # start = int('01') = 1, but no line reads '1.', so n = 0 and the segment stays whole.
    assert segment_note("01. A\n02. B") == ["01. A\n02. B"]


def test_inline_titles_start_new_segments():
    text = "Exam notable for:\n Heart: RRR\n Lungs: clear bilaterally\nno edema"
    # The indented titles are not step-3 candidates (no capital right after the newline);
    # step 6 cuts before each and keeps the lines as they are.
    assert segment_note(text) == [
        "Exam notable for:",
        " Heart: RRR",
        " Lungs: clear bilaterally\nno edema",
    ]


def test_disp_is_not_an_inline_title_either():
    text = "1. Aspirin 81 mg\nDisp: 30 tablets\nRefills: 2"
    assert segment_note(text) == ["1. Aspirin 81 mg\nDisp: 30 tablets", "Refills: 2"]


def test_title_followed_by_title_stays_apart():
    assert segment_note("Plan:\n\nAssessment:") == ["Plan:", "Assessment:"]


def test_large_note_with_long_runs_finishes():
    # About 1 MB, including runs that a backtracking pattern would rescan: blank-ish lines,
    # dots, an unbroken token and a long list.
    paragraph = (
        "History of Present Illness:\nPt is a 70 yo man. BP 120/80. HR 88.\n"
        "1. Aspirin 81 mg\n2. Lisinopril 10 mg\n\n"
    )
    items = "".join(f"{n}. item\n" for n in range(1, 5001))
    text = paragraph * 6000 + " \n" * 50_000 + "." * 100_000 + "x" * 100_000 + "\n" + items
    segments = segment_note(text)
    assert segments.count("History of Present Illness:") == 6000
    assert "5000. item" in segments
