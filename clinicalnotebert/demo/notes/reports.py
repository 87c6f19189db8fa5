"""ECG and echocardiogram reports."""

from __future__ import annotations

from clinicalnotebert.demo.notes.writer import Writer
from clinicalnotebert.demo.templates import pick, sample
from clinicalnotebert.demo.vocabulary import WORDS

TACHYCARDIA_SEVERITY, TACHYCARDIA_RATE = 1.0, 0.6  # sicker patients' ECGs often read tachycardia


def ecg(w: Writer) -> str:
    rhythm, finding = pick(WORDS.ecg_readings, w.rng)
    if w.adm.severity > TACHYCARDIA_SEVERITY and w.chance(TACHYCARDIA_RATE):
        rhythm = "Sinus tachycardia."
    return f"{rhythm} {finding} {pick(WORDS.ecg_comparisons, w.rng)}"


def echo(w: Writer) -> str:
    s, rng = w.slots, w.rng
    lines = [
        "PATIENT/TEST INFORMATION:",
        f"Indication: {pick(w.adm.dx.names, rng)}. Evaluate LV function.",
        f"Height: (in) {rng.randrange(58, 76)}",
        f"Weight (lb): {rng.randrange(100, 260)}",
        f"BP (mm Hg): {s['sbp']}/{s['dbp']}",
        f"HR (bpm): {s['hr']}",
        *WORDS.echo_header,
        "",
        "INTERPRETATION:",
        "",
        "Findings:",
        "",
    ]
    lines += sample(WORDS.echo_findings, rng.randint(8, 14), rng)
    lines += ["", "Conclusions:", " ".join(sample(WORDS.echo_findings, 2, rng))]
    return "\n".join(lines)
