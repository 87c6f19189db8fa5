"""Discharge summaries (adult and newborn) and their addenda.

A summary may state the outcome, so the prediction tasks exclude it; an expired patient's
summary has no plans.
"""

from __future__ import annotations

import re

from clinicalnotebert.demo.frames import med_change_sentence
from clinicalnotebert.demo.notes.shared import followup_block, instruction_sheet
from clinicalnotebert.demo.notes.writer import Writer, clock, home_med_list
from clinicalnotebert.demo.templates import pick
from clinicalnotebert.demo.vocabulary import WORDS

TABLET_SIG = re.compile(r"^(\S+ (?:mg|mcg)) (PO .+)$")
EXPIRED_SECTIONS = (
    ("Discharge Medications", "None"),
    ("Discharge Disposition", "Expired"),
    ("Discharge Condition", "Expired"),
    ("Discharge Instructions", "None"),
    ("Followup Instructions", "None"),
)


def discharge(w: Writer) -> str:
    """A long discharge summary, in the MIMIC-III or the MIMIC-IV layout."""
    blank = "\n \n" if w.style == "iv" else "\n\n"  # MIMIC-IV separates with " \n"
    if w.patient.kind == "newborn":
        return blank.join(dates_header(w) + newborn_sections(w))
    sections = [f"{title}:\n{text}" for title, text in summary_sections(w)]
    signature = f"{w.deid.name()} {w.deid.name()} MD {w.deid.tag()}"
    completed = f"Completed by:{w.deid.date(w.adm.dischtime)}"
    return blank.join([*summary_header(w), *sections, signature, completed])


def addendum(w: Writer) -> str:
    seen = w.say("Patient was seen and examined on the day of discharge.")
    return f"Addendum:\n{seen} {w.say_one(WORDS.plan_sentences)}"


def dates_header(w: Writer) -> list[str]:
    adm, deid, patient = w.adm, w.deid, w.patient
    return [
        f"Admission Date:  {deid.date(adm.admittime)}              "
        f"Discharge Date:   {deid.date(adm.dischtime)}",
        f"Date of Birth:  {deid.date(patient.dob)}             Sex:   {patient.gender}",
    ]


def summary_header(w: Writer) -> list[str]:
    name_line = ["Name:  ___                     Unit No:   ___"] if w.style == "iv" else []
    return [
        *name_line,
        *dates_header(w),
        f"Service: {w.adm.dx.service}",
        f"Allergies:\n{pick(WORDS.allergies, w.rng)}",
        f"Attending:{w.deid.name()}",
    ]


def summary_sections(w: Writer) -> list[tuple[str, str]]:
    adm, patient, s, rng = w.adm, w.patient, w.slots, w.rng
    vitals = f"Vitals: T {s['temp_f']} BP {s['sbp']}/{s['dbp']} HR {s['hr']} RR {s['rr']} O2 {s['spo2']}%"
    history = "\n".join(f"{i}. {item}" for i, item in enumerate(patient.pmh, 1))
    return [
        ("Chief Complaint", pick(adm.dx.complaints, rng)),
        ("Major Surgical or Invasive Procedure", procedures(w)),
        ("History of Present Illness", w.hpi(6, 9)),
        ("Past Medical History", history or "None"),
        ("Social History", " ".join(pick(options, rng) for options in WORDS.social_history)),
        ("Family History", pick(WORDS.family_history, rng)),
        ("Physical Exam", "\n".join([vitals, *w.say_each(WORDS.exam_lines)])),
        ("Pertinent Results", pertinent_results(w)),
        ("Brief Hospital Course", hospital_course(w)),
        ("Medications on Admission", home_med_list(w)),
        *outcome_sections(w),
    ]


def outcome_sections(w: Writer) -> list[tuple[str, str]]:
    """What a summary says after the course: an expired patient gets no plans."""
    rng = w.rng
    pmh = ", ".join(w.patient.pmh) or "none"
    diagnosis = f"Primary: {pick(w.adm.dx.names, rng)}\nSecondary: {pmh}"
    if w.adm.died:
        return [*EXPIRED_SECTIONS[:2], ("Discharge Diagnosis", diagnosis), *EXPIRED_SECTIONS[2:]]
    changes = [med_change_sentence(rng) for _ in range(rng.randint(1, 3))]
    instructions = " ".join(w.says(WORDS.discharge_instructions, rng.randint(3, 5)) + changes)
    blank = "\n \n" if w.style == "iv" else "\n\n"
    sheet = instruction_sheet(w)
    if sheet:  # a paragraph of its own
        instructions += blank + sheet
    doctor = w.deid.name()
    followup = f"Please follow up with your primary care physician Dr. {doctor} in 1-2 weeks."
    block = followup_block(w)
    if block:
        followup += blank + block
    return [
        ("Discharge Medications", discharge_meds(w)),
        ("Discharge Disposition", pick(WORDS.dispositions_alive, rng)),
        ("Discharge Diagnosis", diagnosis),
        ("Discharge Condition", pick(WORDS.discharge_conditions, rng)),
        ("Discharge Instructions", instructions),
        ("Followup Instructions", followup),
    ]


def newborn_sections(w: Writer) -> list[str]:
    history, course = WORDS.neonatal_course[:2], WORDS.neonatal_course[2:]
    return [
        "Service: NB",
        "HISTORY OF PRESENT ILLNESS:\n" + " ".join(w.says(history, 2)),
        "HOSPITAL COURSE BY SYSTEMS:\n" + " ".join(w.says(course, 4)),
        "DISCHARGE DISPOSITION:\nHome with parents.",
        f"DISCHARGE DIAGNOSES:\n1. {w.say('{dx}')}\n2. Hyperbilirubinemia",
        f"{w.deid.name()}, MD {w.deid.tag()}",
    ]


def procedures(w: Writer) -> str:
    adm, done = w.adm, []
    if adm.intubated:
        done.append("Endotracheal intubation")
    if adm.pressors:
        done.append("Right internal jugular central venous line placement")
    if adm.dx.key in WORDS.procedures:
        done.append(WORDS.procedures[adm.dx.key])
    return "\n".join(done) or "None"


def pertinent_results(w: Writer) -> str:
    s, rng, adm = w.slots, w.rng, w.adm
    moment = adm.stays[0].intime
    stamp = f"{w.deid.date(moment)} {clock(moment).replace(' ', '')}"
    blood = f"RBC-{rng.uniform(2.8, 5):.2f} HGB-{rng.uniform(7, 15):.1f} PLT COUNT-{rng.randrange(60, 420)}"
    chemistry = f"GLUCOSE-{rng.randrange(70, 400)} UREA N-{rng.randrange(8, 90)} CREAT-{s['creat']}"
    imaging = f"{adm.dx.study} {w.deid.date(moment)}: {pick(adm.dx.impressions, rng)}"
    return "\n".join(
        (
            f"{stamp}   WBC-{s['wbc']} {blood}",
            f"{stamp}   {chemistry} SODIUM-{rng.randrange(128, 148)}",
            f"{stamp}   LACTATE-{s['lactate']}",
            "",
            imaging,
        )
    )


def hospital_course(w: Writer) -> str:
    history = ", ".join(w.patient.pmh[:3]) or "no prior history"
    paragraphs = [w.say(f"{{who}} with {history} who presented with {{complaint}}.")]
    label = w.dx_label()
    course = w.says(WORDS.course_sentences, w.rng.randint(4, 6))
    paragraphs.append(f"# {label}: " + " ".join(course))
    for problem in w.patient.pmh[:3]:
        said = w.says(WORDS.course_sentences, 1) + w.says(WORDS.plan_sentences, 1)
        paragraphs.append(f"# {problem}: " + " ".join(said))
    outcome = WORDS.death_course if w.adm.died else WORDS.outcome_good
    paragraphs.append(" ".join(w.says(outcome, w.rng.randint(2, 3))))
    return "\n\n".join(paragraphs)


def discharge_meds(w: Writer) -> str:
    if w.adm.died:
        return "None"
    lines = []
    for i, (name, sig) in enumerate(w.patient.home_meds, 1):
        form = pick(WORDS.dose_forms, w.rng)
        tablet = TABLET_SIG.match(sig)
        if tablet:
            dose, route_freq = tablet.groups()
            lines.append(f"{i}. {name.title()} {dose} {form} Sig: One (1) {form} {route_freq}.")
        else:
            lines.append(f"{i}. {name.title()} {sig}.")
        supply, refills = w.rng.choice((30, 60, 90)), w.rng.randrange(0, 3)
        lines.append(f"Disp:*{supply} {form}(s)* Refills:*{refills}*")
    return "\n".join(lines) or "None"
