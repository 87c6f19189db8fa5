"""``benchmarks/gpu_check.py``: the one-shot GPU check cannot rot between GPU windows.

``--smoke`` runs every check's code path on CPU (micro models, bf16-mixed against fp32, two gloo
processes for DDP) in about two minutes; it runs as its own process, since the DDP check starts
its workers by re-running a command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from benchmarks.gpu_check import CHECKS
from tests.helpers import REPO, assert_user_error

SCRIPT = REPO / "benchmarks" / "gpu_check.py"


@pytest.mark.slow
def test_smoke_run_passes_every_check_and_writes_the_table_as_json(tmp_path):
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "CLINICALNOTEBERT_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, str(SCRIPT), "--smoke", "--out", str(out)]
    result = subprocess.run(
        [*command, "--workdir", str(tmp_path / "work")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
    )
    report = json.loads(out.read_text()) if out.is_file() else {"rows": []}
    checks = [row for row in report["rows"] if row["kind"] == "check"]
    failed = {row["check"]: row["figure"] for row in checks if row["status"] != "PASS"}
    assert result.returncode == 0 and not failed, (failed, result.stdout[-3000:])
    assert [row["check"] for row in checks] == list(CHECKS)
    assert report["mode"] == "smoke" and report["device"] == "cpu"
    assert report["seconds"] < report["budget_s"]
    goals = [row for row in report["rows"] if row["kind"] == "goal"]
    assert [row["status"] for row in goals] == ["SKIP", "SKIP"]  # measured on a GPU only
    for row in report["rows"]:  # the printed table has the JSON's rows
        assert row["check"] in result.stdout and row["status"] in result.stdout
    ours = next(row for row in checks if row["check"] == "throughput-128")["details"]
    assert ours["ours"]["tokens_per_second"] > 0 and ours["ratio"] > 0
    assert 0 < ours["ours"]["mfu"] < 1.5  # against a matmul peak measured in the same run


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible")
def test_without_a_gpu_the_full_run_is_one_error_line():
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert_user_error(result, "no GPU", "--smoke")
