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


def check_documents(documents: Any) -> list[str]:
    """The documents of ``rank``: a sequence of strings (one string alone is refused, not split into characters)."""
    if isinstance(documents, str):
        raise TypeError(
            f"rank expects a list of documents; found one string {documents[:60]!r}, which would be ranked "
            "character by character. Fix: rank(query, [document])."
        )
    docs = list(documents)
    for i, doc in enumerate(docs):
        if not isinstance(doc, str):
            raise ValueError(f"document {i} must be a string; found {type(doc).__name__}. "
                             "Convert the values with str() or drop them.")
    return docs


def check_top_k(top_k: Any) -> None:
    """``top_k`` is None (all documents) or a positive integer."""
    if top_k is None:
        return
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer or None (all documents); found {top_k!r}.")
