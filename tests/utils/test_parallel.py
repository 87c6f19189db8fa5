"""utils.parallel.ordered_map: order, bounded reading, and a failing initializer."""

from __future__ import annotations

import itertools

import pytest

from clinicalnotebert.errors import UserError
from clinicalnotebert.utils.parallel import ordered_map


def square(x: int) -> int:
    return x * x


def refuse(setting: str) -> None:
    raise UserError(f"bad setting {setting}")


def test_results_keep_input_order_across_workers():
    assert list(ordered_map(square, range(20), num_proc=2)) == [x * x for x in range(20)]


def test_input_is_read_only_a_bounded_way_ahead():
    read = []

    def numbers():
        for n in itertools.count():
            read.append(n)
            yield n

    results = ordered_map(square, numbers(), num_proc=2, max_in_flight=3)
    assert [next(results) for _ in range(5)] == [0, 1, 4, 9, 16]
    assert len(read) <= 5 + 3
    results.close()


def test_a_failing_initializer_is_raised_once_not_retried_by_workers():
    with pytest.raises(UserError, match="bad setting x"):
        list(ordered_map(square, range(4), num_proc=2, initializer=refuse, initargs=("x",)))
