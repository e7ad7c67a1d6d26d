"""Pseudo-queries made from the corpus itself: short word spans (or titles) of its documents.

A collection with few labelled queries still holds plenty of text that looks like a query: a title, or a
handful of consecutive words of a document. Each pseudo-query remembers the document it came from, so a
caller can tell which candidate the first stage is expected to find. No generator model is involved.

Construction is deterministic given the seed, and no pseudo-query ever equals its source document: a
document too short to yield a strictly shorter span gives none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

QueryKind = Literal["span", "title"]
_WORD = re.compile(r"\S+")
_EDGE_PUNCT = ".,;:!?()[]{}\"'"


@dataclass(frozen=True)
class PseudoQuery:
    """One pseudo-query and where it came from.

    Attributes:
        text: The query text.
        source: Index of the document (in the corpus order given) it was cut from.
        kind: ``"span"`` (consecutive words of the text) or ``"title"``.
    """

    text: str
    source: int
    kind: QueryKind


def _clean(words: Sequence[str]) -> str:
    return " ".join(words).strip(_EDGE_PUNCT + " ")


def word_span(text: str, rng: np.random.Generator, min_words: int, max_words: int,
              window: int | None = None) -> str | None:
    """A span of ``min_words``..``max_words`` consecutive words of ``text``, strictly shorter than it.

    With ``window``, the span lies within the first ``window`` words (the part of the document a student
    truncated to its ``max_length`` reads). Returns None when the text has too few words for a span of at
    least ``min_words`` that leaves a word out.
    """
    words = _WORD.findall(text)
    longest = min(max_words, len(words) - 1)
    if longest < min_words:
        return None
    length = int(rng.integers(min_words, longest + 1))
    reach = len(words) if window is None else max(length, min(window, len(words)))
    start = int(rng.integers(0, reach - length + 1))
    span = _clean(words[start : start + length])
    return span if len(_WORD.findall(span)) >= min_words and span != text.strip() else None


def make_pseudo_queries(
    corpus: Sequence[str],
    count: int,
    seed: int = 0,
    min_words: int = 5,
    max_words: int = 9,
    titles: Sequence[str | None] | Mapping[int, str] | None = None,
    title_share: float = 0.0,
    exclude: Sequence[str] = (),
    window: int | None = None,
    passes: int = 1,
) -> list[PseudoQuery]:
    """Up to ``count`` distinct pseudo-queries, at most one per document in each pass over ``corpus``.

    Documents are visited in a seeded random order; each gives one span of ``min_words``..``max_words``
    words (or, for a ``title_share`` of them, its title, when it has one that differs from its text). While
    fewer than ``count`` are made, up to ``passes`` passes visit the documents again (a new order, new span
    positions; titles only in the first): a small corpus then still gives as many lists as asked.

    Args:
        corpus: Document texts.
        count: How many pseudo-queries to return at most (fewer when the corpus runs out of usable documents).
        seed: Seed of the document order and of the span positions.
        min_words, max_words: Span length bounds, in whitespace-separated words.
        titles: Optional title per document (same order, or ``{index: title}``).
        title_share: Fraction of pseudo-queries taken from titles, in [0, 1].
        exclude: Texts never to return (e.g. the user's own queries, so none appears twice).
        window: Spans come from the first ``window`` words of their document (None: from anywhere).
        passes: Passes over the documents at most (1: one pseudo-query per document).

    Returns:
        The pseudo-queries in the order made.

    Raises:
        ValueError: on bad bounds, a negative count, passes under 1 or a share outside [0, 1].
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more; found {count}.")
    if passes < 1:
        raise ValueError(f"passes must be 1 or more; found {passes}.")
    if not 1 <= min_words <= max_words:
        raise ValueError(f"need 1 <= min_words <= max_words; found min_words={min_words}, max_words={max_words}.")
    if window is not None and window < min_words:
        raise ValueError(f"window must be at least min_words ({min_words}); found {window}.")
    if not 0.0 <= title_share <= 1.0:
        raise ValueError(f"title_share must be in [0, 1]; found {title_share}.")
    rng = np.random.default_rng(seed)
    seen = {" ".join(t.lower().split()) for t in exclude}
    made: list[PseudoQuery] = []
    for round_ in range(passes):
        before = len(made)
        for index in rng.permutation(len(corpus)).tolist():
            if len(made) >= count:
                return made
            query = _one_query(corpus[index], index, rng, min_words, max_words, window,
                               _title(titles, index) if round_ == 0 else None, title_share)
            key = None if query is None else " ".join(query.text.lower().split())
            if query is None or not key or key in seen:
                continue
            seen.add(key)
            made.append(query)
        if len(made) == before:
            break  # a pass that adds nothing: the documents have no new spans to give
    return made


def _one_query(text: str, index: int, rng: np.random.Generator, min_words: int, max_words: int,
               window: int | None, title: str | None, title_share: float) -> PseudoQuery | None:
    """The document's title (for a ``title_share`` of the documents that have one) or a span of it."""
    use_title = title_share > 0 and rng.random() < title_share and title is not None
    candidate = title if use_title and title is not None and title.strip() != text.strip() else word_span(
        text, rng, min_words, max_words, window)
    if candidate is None or candidate.strip() == text.strip():
        return None
    return PseudoQuery(candidate, index, "title" if use_title and candidate == title else "span")


def _title(titles: Sequence[str | None] | Mapping[int, str] | None, index: int) -> str | None:
    if titles is None:
        return None
    value = titles.get(index) if isinstance(titles, Mapping) else (titles[index] if index < len(titles) else None)
    return value.strip() if isinstance(value, str) and value.strip() else None
