"""Radiology reports, in the MIMIC-III layout (header, wet read, final report) or MIMIC-IV's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from clinicalnotebert.demo.frames import finding_sentence
from clinicalnotebert.demo.notes.shared import chest_macro, ct_dose
from clinicalnotebert.demo.notes.writer import Writer, clock
from clinicalnotebert.demo.templates import pick, sample
from clinicalnotebert.demo.vocabulary import WORDS

CHEST_FILM = "CHEST (PORTABLE AP)"
COMPARISON_RATE = 0.5  # reports that compare with a prior study
WET_READ_RATE = 0.3  # MIMIC-III reports with a preliminary (wet) read
WORSENING_SEVERITY = 1.2  # above it a chest film's impression says the lungs got worse
RULE = "_" * 78


@dataclass
class Reading:
    """What a report says, before it is laid out."""

    study: str
    reason: str
    technique: str
    comparison: str
    findings: str
    impression: str  # the main impression, which a wet read repeats
    numbered: str  # the numbered impression list
    cross_sectional: bool  # CT or ultrasound
    follow_up: str | None = None  # a chest film's comparison paragraph from the shared macro
    dose: str | None = None  # a CT's dose and technique paragraph


def radiology(w: Writer, moment: datetime, study: str, later: tuple[str, ...] = ()) -> str:
    """A report; ``later`` holds the main findings of a given study (else the diagnosis')."""
    reading = read_study(w, moment, study, later)
    if w.style == "iv":
        return mimic4_report(w, reading)
    return mimic3_report(w, moment, reading)


def read_study(w: Writer, moment: datetime, study: str, later: tuple[str, ...]) -> Reading:
    rng = w.rng
    region = next((key for key in WORDS.radiology_reasons if key in study), "OTHER")
    reason = pick(WORDS.radiology_reasons[region], rng)
    main, impression = (list(later), later[0]) if later else first_findings(w, study)
    cross_sectional = study.startswith("CT") or "U.S." in study
    pool = WORDS.radiology_details[region]
    if cross_sectional:
        pool += WORDS.radiology_ct_details.get(region, ())
    count = rng.randint(12, len(pool)) if cross_sectional else rng.randint(3, 6)
    details = w.says(pool, count)
    impressions = [impression, *sample(main[1:-1] + details[:1], rng.randint(0, 2), rng)]
    technique = pick(WORDS.radiology_techniques[technique_key(study, region)], rng)
    comparison = (
        w.deid.date(moment - timedelta(days=rng.randrange(30, 900)))
        if w.chance(COMPARISON_RATE)
        else "None."
    )
    return Reading(
        study=study,
        reason=reason,
        technique=technique,
        comparison=comparison,
        findings=" ".join(main[:1] + details + main[1:]),
        impression=impression,
        numbered="\n".join(f"{i}. {line}" for i, line in enumerate(impressions, 1)),
        cross_sectional=cross_sectional,
        follow_up=chest_macro(w, study),
        dose=ct_dose(w, study),
    )


def mimic4_report(w: Writer, reading: Reading) -> str:
    names = w.adm.dx.names
    return "\n\n".join(
        [
            f"EXAMINATION:  {reading.study}",
            f"INDICATION:  {w.say('{who}')} with {pick(names, w.rng)} // {reading.reason}",
            f"TECHNIQUE:  {reading.technique}",
            *([reading.dose] if reading.dose else []),
            f"COMPARISON:  {reading.comparison}",
            f"FINDINGS: \n\n{reading.findings}",
            *([reading.follow_up] if reading.follow_up else []),
            f"IMPRESSION: \n\n{reading.numbered}",
        ]
    )


def mimic3_report(w: Writer, moment: datetime, reading: Reading) -> str:
    """Header with the clip number and reason, an optional wet read, then the final report."""
    adm, rng, reason = w.adm, w.rng, reading.reason
    header = [
        f"{w.deid.date(moment)} {clock(moment)}",
        f" {reading.study:<64}Clip # [**Clip Number (Radiology) {rng.randrange(10000, 99999)}**]",
        f" Reason: {reason}",
        f" Admitting Diagnosis: {pick(adm.dx.admit_dx, rng)}",
        f" {RULE}",
        f" {w.deid.tag()} MEDICAL CONDITION:",
        f"  {w.say('{who}')} with {pick(adm.dx.names, rng)}",
        " REASON FOR THIS EXAMINATION:",
        f"  {reason}",
        f" {RULE}",
    ]
    if w.chance(WET_READ_RATE):
        header += [
            f" WET READ: {w.deid.name()} {clock(moment)}",
            f"  {reading.impression}",
            f" {RULE}",
        ]
    header.append("                                 FINAL REPORT")
    history = (
        [f" CLINICAL HISTORY: {w.say_one(WORDS.hpi_openings)}"] if reading.cross_sectional else []
    )
    body = [
        *history,
        f" INDICATION: {pick(adm.dx.complaints, rng)}, {reason}.",
        f" TECHNIQUE: {reading.technique}",
        *([f" {reading.dose}"] if reading.dose else []),
        f" COMPARISON: {reading.comparison}",
        f" FINDINGS: {reading.findings}",
        *([f" {reading.follow_up}"] if reading.follow_up else []),
        f" IMPRESSION:\n {reading.numbered}",
    ]
    return "\n".join(header) + "\n\n" + "\n\n".join(body)


def first_findings(w: Writer, study: str) -> tuple[list[str], str]:
    """Main findings of the diagnosis' study: lines and tubes, chest findings, the impression."""
    adm, rng = w.adm, w.rng
    sentences = []
    if adm.intubated and "CHEST" in study:
        sentences.append("Endotracheal tube terminates 4 cm above the carina.")
    if adm.pressors:
        sentences.append("Right internal jugular central line tip in the SVC.")
    if "CHEST" in study:
        sentences += [finding_sentence(rng) for _ in range(rng.randint(1, 3))]
    impression = pick(adm.dx.impressions, rng)
    if adm.severity > WORSENING_SEVERITY and "CHEST" in study:
        impression += " " + pick(WORDS.worsening_impressions, rng)
    sentences.append(impression)
    return sentences, impression


def technique_key(study: str, region: str) -> str:
    if study.startswith("CT"):
        return "CT W/O" if "W/O" in study else "CT W/"
    return region
