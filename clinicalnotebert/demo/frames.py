"""Semantic frames, a radiology finding or a medication instruction, and their wording.

The STS pairs compare two realisations of related frames; the radiology and discharge notes use
the same frames, so the STS sentences share the notes' vocabulary.
"""

from __future__ import annotations

import random

from clinicalnotebert.demo.templates import pick
from clinicalnotebert.demo.vocabulary import WORDS

NEGATION_RATE = 0.4  # frames a note states negated ("no ...", "stop ...")


def random_finding_frame(rng: random.Random) -> dict:
    return {
        "kind": "finding",
        "finding": pick(tuple(WORDS.findings), rng),
        "site": pick(tuple(WORDS.sites), rng),
        "severity": pick(tuple(WORDS.severities), rng),
        "negated": False,
    }


def random_med_frame(rng: random.Random) -> dict:
    return {
        "kind": "med",
        "drug": pick(tuple(WORDS.drugs), rng),
        "dose": pick(WORDS.doses, rng),
        "route": pick(tuple(WORDS.routes), rng),
        "freq": pick(tuple(WORDS.freqs), rng),
        "negated": False,
    }


def capitalised_slots(values: dict[str, str]) -> dict[str, str]:
    return {**values, **{k.capitalize(): v[0].upper() + v[1:] for k, v in values.items()}}


def realise(
    frame: dict, rng: random.Random, template_index: int | None, synonym_seed: int | None
) -> str:
    """Words for a frame; the same ``synonym_seed`` picks the same synonyms.

    ``template_index`` chooses the template (modulo the list's length); None draws one.
    """
    words = random.Random(synonym_seed) if synonym_seed is not None else rng
    if frame["kind"] == "finding":
        values = {
            "finding": pick(WORDS.findings[frame["finding"]], words),
            "site": pick(WORDS.sites[frame["site"]], words),
            "severity": pick(WORDS.severities[frame["severity"]], words),
        }
        negated, positive = WORDS.negated_finding_templates, WORDS.finding_templates
    else:
        values = {
            "drug": pick(WORDS.drugs[frame["drug"]], words),
            "dose": frame["dose"],
            "route": pick(WORDS.routes[frame["route"]], words),
            "freq": pick(WORDS.freqs[frame["freq"]], words),
        }
        negated, positive = WORDS.stop_med_templates, WORDS.med_templates
    templates = negated if frame["negated"] else positive
    template = (
        templates[template_index % len(templates)]
        if template_index is not None
        else pick(templates, rng)
    )
    return template.format(**capitalised_slots(values))


def med_change_sentence(rng: random.Random) -> str:
    """A medication instruction from the same frames (and words) as the STS medication pairs."""
    return stated(random_med_frame(rng), rng)


def finding_sentence(rng: random.Random) -> str:
    """One radiology finding sentence from the same frame vocabulary the STS pairs use."""
    return stated(random_finding_frame(rng), rng)


def stated(frame: dict, rng: random.Random) -> str:
    """A frame as a note states it: sometimes negated, with words and template drawn."""
    frame["negated"] = rng.random() < NEGATION_RATE
    return realise(frame, rng, template_index=None, synonym_seed=None)
