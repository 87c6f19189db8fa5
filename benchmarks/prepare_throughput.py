"""Throughput and peak memory of `task=prepare` on the demo generator scaled up.

Generates MIMIC-format synthetic notes at two scales, trains one tokenizer, then runs
`python -m clinicalnotebert task=prepare` with 1 and 2 worker processes. Reports words/s
(total and per core), notes/s (from the run's own timer: reading to writing, no start-up) and the
peak resident memory of the whole process tree (main + workers, sampled every 50 ms).
Memory should not grow with the number of notes: compare the two scales.

    .venv/bin/python benchmarks/prepare_throughput.py [--patients 1500 3000] [--procs 1 2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from clinicalnotebert.demo.generator import generate_demo

REPO = Path(__file__).resolve().parents[1]


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):  # a worker may exit while we look
            total += proc.memory_info().rss
    return total


def run(args: list[str], env: dict) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of the process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "clinicalnotebert", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    handle, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(handle))
        time.sleep(0.05)
    if proc.returncode != 0:
        sys.exit(proc.stderr.read().decode()[-2000:])
    return time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[1500, 3000])
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    options = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tokenizer_run = tmp / "tokenizer-run"
        for patients in options.patients:
            data = generate_demo(
                tmp / f"data-{patients}", n_patients=patients, n_mimic4_notes=patients
            )
            data_args = [
                "data=mimic",
                f"data.mimic3_dir={data / 'mimic3'}",
                f"data.mimic4_note_dir={data / 'mimic4_note'}",
            ]
            if not tokenizer_run.exists():
                run(["task=tokenizer", *data_args, f"hydra.run.dir={tokenizer_run}"], env)
            for procs in options.procs:
                out = tmp / f"prepare-{patients}-{procs}"
                wall, peak = run(
                    [
                        "task=prepare",
                        *data_args,
                        f"tokenizer.path={tokenizer_run / 'tokenizer'}",
                        f"prepare.num_proc={procs}",
                        f"hydra.run.dir={out}",
                    ],
                    env,
                )
                metrics = json.loads((out / "metrics.json").read_text())
                rows.append((patients, procs, metrics, wall, peak))
    print(
        f"{'patients':>8} {'procs':>5} {'notes':>7} {'words':>10} {'words/s':>9} "
        f"{'words/s/core':>12} {'notes/s':>8} {'wall s':>7} {'peak RSS MB':>11}"
    )
    for patients, procs, m, wall, peak in rows:
        wps = m["throughput.words_per_second"]
        print(
            f"{patients:>8} {procs:>5} {m['notes_kept']:>7} {m['words']:>10} {wps:>9.0f} "
            f"{wps / procs:>12.0f} {m['throughput.notes_per_second']:>8.1f} {wall:>7.1f} "
            f"{peak / 2**20:>11.0f}"
        )


if __name__ == "__main__":
    main()
