"""The four user-error classes of the fault matrix (``matrix.py``), for every task: exit status
2, exactly one ``error:`` line with the expected fragment and no note text, no traceback, and
nothing in the run dir that loads as a complete result."""

from __future__ import annotations

import pytest

from tests.faults.matrix import Env, cases_of
from tests.faults.verify import assert_no_note_text, assert_nothing_complete
from tests.helpers import assert_user_error, run_main


def check(case, request, tmp_path) -> None:
    env = Env(request, tmp_path)
    args = case.args(env)
    run_dir = case.run_dir(env) if case.run_dir else tmp_path / "run"
    result = run_main(args, run_dir)
    line = assert_user_error(result, *case.fragments)
    assert len(line) < 600, line  # one readable line, not a dump
    assert_no_note_text(line)
    assert_nothing_complete(run_dir)


@pytest.mark.parametrize("case", cases_of("missing_path"))
def test_missing_path(case, request, tmp_path):
    check(case, request, tmp_path)


@pytest.mark.parametrize("case", cases_of("wrong_type"))
def test_wrong_type(case, request, tmp_path):
    check(case, request, tmp_path)


@pytest.mark.parametrize("case", cases_of("wrong_kind"))
def test_wrong_kind(case, request, tmp_path):
    check(case, request, tmp_path)


@pytest.mark.parametrize("case", cases_of("cut_off"))
def test_cut_off(case, request, tmp_path):
    check(case, request, tmp_path)
