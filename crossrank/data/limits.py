"""Row limits of a data entry (``limit:`` in a ``crossrank train`` config): a positive count, never 0-as-all."""

from __future__ import annotations

from typing import Any


def check_limit(value: Any, where: str) -> int:
    """``value`` as a positive number of rows; 0, negatives, fractions and text are errors naming the value."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < 1:
        raise ValueError(
            f"limit for {where} must be a positive whole number of rows; found {value!r}. "
            "Fix: remove 'limit' to use every row, or give a count such as 1000."
        )
    return int(value)
