"""The fault matrix itself: every task has cases of every fault class, under distinct ids."""

from __future__ import annotations

from tests.faults.matrix import CASES, CLASSES, RERUNS, TASKS, counts


def test_every_task_has_every_fault_class():
    empty = [(task, fault) for task, row in counts().items() for fault, n in row.items() if not n]
    assert not empty, empty


def test_cases_have_distinct_ids_and_known_tasks():
    ids = [case.id for case in [*CASES, *RERUNS]]
    assert len(ids) == len(set(ids))
    assert {case.task for case in [*CASES, *RERUNS]} == set(TASKS)
    assert {case.fault for case in [*CASES, *RERUNS]} == set(CLASSES)
