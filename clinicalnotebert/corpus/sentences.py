"""Sentence splitters for corpus preparation: a fast rule-based default and an optional spaCy one.

The reference split segments with scispaCy ``en_core_sci_sm``; the rule-based splitter is the
default because it is orders of magnitude faster and needs no model download.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from clinicalnotebert.corpus.segmenter import stripped_pieces
from clinicalnotebert.errors import UserError

# Tokens (lower-cased, without the final '.') after which a '.' never ends a sentence.
ABBREVIATIONS: frozenset[str] = frozenset(
    {
        # titles and names
        "dr", "mr", "mrs", "ms", "prof", "sr", "jr", "st",
        # English and Latin
        "vs", "e.g", "i.e", "etc", "approx", "cf", "al", "fig",
        # clinical
        "pt", "pts", "y.o", "b.i.d", "t.i.d", "q.i.d", "q.d", "q.o.d", "q.h.s", "h.s",
        "p.o", "p.r.n", "a.c", "p.c", "a.m", "p.m", "mg",
    }
)  # fmt: skip

_OPENERS = "([{\"'“‘"
# One scan finds every place a sentence may end:
#   stop:  a run of . ? ! (plus closing brackets/quotes) followed by whitespace; the run is
#          matched from its first character and possessively, so '.....' is scanned once;
#   item:  a newline before a blank line, a bullet ('- ', '* ', '• ') or an enumerator ('2. ');
#   label: a ':' that ends a line.
_BOUNDARY = re.compile(
    r"(?<![.?!])(?P<stop>[.?!]++)[)\]}\"'”’]*+(?=\s)"
    r"|(?P<item>\n)[^\S\n]*+(?=\n|[-*•·][^\S\n]|\d{1,3}[.)]\s)"
    r"|(?P<label>:)[^\S\n]*+(?=\n)"
)
_NON_SPACE = re.compile(r"\S")
# A list number: '2' alone, or glued after a ',' / ';' that does not follow a digit ('foot.,2',
# ',2' in text whose newlines became commas; not '12,000').
_LIST_NUMBER = re.compile(r"(?:(?:.*\D)?[,;])?(\d{1,3})")
# Tokens longer than this are never abbreviations, initials or list numbers.
_TOKEN_WINDOW = 32


def _token_before(text: str, end: int) -> str:
    """The whitespace-delimited token that ends at ``end`` ('' when whitespace precedes it)."""
    window = text[max(0, end - _TOKEN_WINDOW) : end]
    if not window or window[-1].isspace():
        return ""
    return window.split()[-1]


def _opens_list_item(text: str, sentence_start: int, token_start: int, number: int) -> bool:
    """Whether a number before '.' opens a list item: it is the first token of the sentence or
    of a line, or it is 1 right after ':' or '(' ('Impression: 1. CHF', but 'Pulse: 72.')."""
    before = text[sentence_start:token_start].rstrip(" \t")
    if not before.strip() or before[-1] == "\n":
        return True
    return number == 1 and before[-1] in ":("


def _opens_sentence(char: str) -> bool:
    return char.isupper() or char.isdigit() or char in _OPENERS


def _next_char(text: str, position: int) -> str:
    """The first non-space character at or after ``position`` ('' at the end)."""
    found = _NON_SPACE.search(text, position)
    return found.group() if found else ""


def _ends_question(text: str, match: re.Match[str]) -> bool:
    """Whether a '?' / '!' candidate ends a sentence."""
    start = match.start()
    attached = start > 0 and not text[start - 1].isspace()
    next_char = _next_char(text, match.end())
    return attached and next_char != "" and _opens_sentence(next_char)


def _period_cut(
    text: str, match: re.Match[str], sentence_start: int, last_number: int | None
) -> tuple[int | None, int | None]:
    """Where a '.' candidate cuts (None: nowhere) and the updated last list number."""
    next_char = _next_char(text, match.end())
    if not next_char:
        return None, last_number
    token = _token_before(text, match.start())
    token_start = match.start() - len(token)
    number = _LIST_NUMBER.fullmatch(token)
    if number:
        value = int(number.group(1))
        if number.start(1) > 0 or _opens_list_item(text, sentence_start, token_start, value):
            return None, value
        follows_space = token_start > 0 and text[token_start - 1].isspace()
        inline = last_number is not None and value == last_number + 1
        if inline and follows_space and next_char.isupper():
            return token_start, value
    word = token.lstrip(_OPENERS)
    if word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return None, last_number
    if word[-1:].isdigit() or word.endswith("%"):
        opens = next_char.isupper() or next_char in _OPENERS
    else:
        opens = _opens_sentence(next_char)
    return (match.end() if opens else None), last_number


class RuleSentenceSplitter:
    """Fast rule-based clinical sentence splitter; sentences are stripped substrings, in order.

    A sentence ends:

    - at '?' or '!' attached to a word, before whitespace and an uppercase letter, a digit or an
      opening bracket/quote. A detached '?' ('likely ? PNA') is the clinical 'possible' mark;
    - at '.' before whitespace and an uppercase letter, a digit or an opening bracket/quote, except
      after an abbreviation in :data:`ABBREVIATIONS`, a single-letter initial ('J. Smith') or a
      list number ('1. Aspirin'): a number of at most three digits that starts the sentence or a
      line, is glued after ',' or ';' ('foot.,2.'), or is a 1 after ':' or '(' ('Impression:
      1. CHF'). Decimals ('3.5 mg') never qualify: no whitespace follows their '.';
    - after a measurement (a token ending in a digit or '%': 'BP 120/80.', 'SpO2 95%.') only when
      an uppercase letter or opening bracket follows: 'BP 120/80. HR 88.' is two sentences, while
      'BP 120/80. hr 88' and 'T 98.6. 120/80' stay one, because a value list goes on there;
    - before an inline list number one above the previous one ('1. Aspirin 2. Lisinopril');
    - at a newline before a blank line, a bullet ('- ', '* ', '• ') or a list number, and after
      a ':' that ends a line. Other newlines are hard wraps inside a sentence.
    """

    def __call__(self, text: str) -> list[str]:
        cuts: list[int] = []
        last_number: int | None = None  # the most recent list number, for inline lists
        for match in _BOUNDARY.finditer(text):
            sentence_start = cuts[-1] if cuts else 0
            if match.group("item"):
                cuts.append(match.start())
            elif match.group("label"):
                cuts.append(match.end("label"))
            elif "." not in match.group("stop"):
                if _ends_question(text, match):
                    cuts.append(match.end())
            else:
                cut, last_number = _period_cut(text, match, sentence_start, last_number)
                if cut is not None:
                    cuts.append(cut)
        return stripped_pieces(text, cuts)


class SpacySentenceSplitter:
    """Sentences from a spaCy pipeline's ``doc.sents`` (e.g. scispaCy ``en_core_sci_sm``)."""

    def __init__(self, model: str):
        try:
            import spacy
        except ImportError as error:
            raise UserError(
                f"prepare.sentence_splitter: 'spacy:{model}' needs spaCy; "
                "install it with pip install 'clinicalnotebert[spacy]'"
            ) from error
        try:
            # Sentence boundaries come from the parser (or a senter); entities are not needed.
            self._nlp = spacy.load(model, exclude=["ner"])
        except OSError as error:
            raise UserError(
                f"prepare.sentence_splitter: spaCy model {model!r} is not installed; install its "
                "package (scispaCy models: https://allenai.github.io/scispacy/)"
            ) from error

    def __call__(self, text: str) -> list[str]:
        sentences = (sentence.text.strip() for sentence in self._nlp(text).sents)
        return [sentence for sentence in sentences if sentence]


def get_sentence_splitter(spec: str) -> Callable[[str], list[str]]:
    """The splitter named by ``prepare.sentence_splitter``: 'rules' or 'spacy:<model>'."""
    if spec == "rules":
        return RuleSentenceSplitter()
    backend, _, model = str(spec).partition(":")
    if backend == "spacy" and model:
        return SpacySentenceSplitter(model)
    raise UserError(
        f"prepare.sentence_splitter: unknown splitter {spec!r}; use 'rules' or 'spacy:<model>'"
    )
