"""User-facing errors: a mistake in the user's input or config, reported as one line, exit 2."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix (bad path, missing column, bad config value).

    The entrypoint prints ``error: <message>`` and exits with status 2, without a traceback.
    The message should name the file, column or config key and say what is wrong.
    """


def require(condition: bool, message: str) -> None:
    """Raise :class:`UserError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise UserError(message)
