"""The console: the project's lines and Hydra's sweep lines on the terminal, third-party chatter
in the log file only, and a closing table of the key results."""

from __future__ import annotations

import io
import logging

from rich.console import Console

from clinicalnotebert.utils.console import OwnRecords, print_summary, summary_rows


def record(name: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, "message", None, None)


def test_the_terminal_filter_passes_our_lines_and_anyones_errors_only():
    keep = OwnRecords()
    assert keep.filter(record("clinicalnotebert.rag.task"))
    assert keep.filter(record("clinicalnotebert"))
    assert keep.filter(record("HYDRA"))
    assert not keep.filter(record("clinicalnotebert_other"))  # a prefix is not our package
    assert not keep.filter(record("pytorch_lightning.utilities.rank_zero"))
    assert not keep.filter(record("py.warnings", logging.WARNING))  # captured warnings
    assert not keep.filter(record("numexpr.utils"))
    assert keep.filter(record("torch.distributed", logging.ERROR))


def test_summary_rows_follow_the_patterns_in_order_without_repeats():
    metrics = {"b": 2, "a.x": 0.123456, "a.y": 1234567.0, "c": "text", "a.z": True}
    rows = summary_rows(metrics, ["c", "a.*", "b", "a.x"])
    assert rows == [
        ("c", "text"),
        ("a.x", "0.1235"),
        ("a.y", "1,234,567"),
        ("a.z", "True"),
        ("b", "2"),
    ]


def test_the_closing_table_names_the_scores_and_the_artifacts(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "metrics.json").write_text("{}")
    (tmp_path / "run.log").write_text("")
    (tmp_path / ".hydra").mkdir()
    out = io.StringIO()
    print_summary("sts", {"pearson": 81.234, "pairs": 200}, tmp_path, ["pearson", "pairs"],
                  Console(file=out, width=40))  # fmt: skip
    text = out.getvalue()
    assert "sts: results" in text and "81.23" in text and "200" in text
    assert f"run dir: {tmp_path}  (metrics.json, model/)" in text  # no logs, no .hydra
