"""Order-preserving parallel map with a bounded queue, so a huge input is never read ahead whole."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def ordered_map(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    num_proc: int = 1,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
    max_in_flight: int | None = None,
) -> Iterator[Any]:
    """``map(fn, items)`` over ``num_proc`` spawned workers, results in input order.

    ``multiprocessing.Pool.imap`` feeds its queue as fast as the input allows, so a streamed file
    would be read ahead without bound; here at most ``max_in_flight`` items (default 2 per worker)
    are pending at once, which keeps memory flat however large the input is.
    """
    # Run the initializer here first: an error in it (a bad setting) then surfaces once, in this
    # process, instead of a Pool restarting failing workers without end.
    if initializer is not None:
        initializer(*initargs)
    if num_proc <= 1:
        yield from map(fn, items)
        return
    limit = max_in_flight or 2 * num_proc
    context = multiprocessing.get_context("spawn")
    with context.Pool(num_proc, initializer=initializer, initargs=initargs) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.apply_async(fn, (item,)))
            if len(pending) >= limit:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
