"""Validation of (query, document) pair inputs, shared by every scoring entry point."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Pair = tuple[str, str] | list[str]


def is_single_pair(pairs: Any) -> bool:
    """Whether ``pairs`` is one (query, document) pair rather than a sequence of pairs."""
    return (isinstance(pairs, (tuple, list)) and len(pairs) == 2
            and all(isinstance(x, str) for x in pairs))


def check_pairs(pairs: Sequence[Any]) -> list[tuple[str, str]]:
    """Validate pairs: each must be two strings. Raises with the index of the first bad one."""
    if isinstance(pairs, str):
        raise TypeError("predict expects (query, document) pairs; found a single string.")
    out = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(
                f"pair {i} must be (query, document); found {type(pair).__name__} {str(pair)[:60]!r}."
            )
        q, d = pair
        if not isinstance(q, str) or not isinstance(d, str):
            raise ValueError(
                f"pair {i} must hold two strings; found ({type(q).__name__}, {type(d).__name__}). "
                "Convert the values with str() or drop the row."
            )
        out.append((q, d))
    return out
