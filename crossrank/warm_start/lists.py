"""Training lists for the warm start: a query, candidates from the teacher, and the teacher's scores.

Each list holds the teacher's ``top_k`` documents for the query and ``sampled`` more drawn (seeded) from
its ranks ``top_k + 1 .. depth``, so the student sees both the fine order at the top and the coarse order
of a whole first-stage list, which is what it will rerank. Every candidate keeps its teacher score; the
loss targets are derived from them by :func:`teacher_targets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crossrank.inference.fusion import normalize_scores
from crossrank.warm_start.teachers import Teacher


@dataclass(frozen=True)
class TeacherList:
    """One query's candidates (corpus indices) and the teacher's score of each, best first."""

    query: str
    documents: list[int]
    teacher_scores: list[float]


def teacher_targets(scores: Sequence[float], scale: float) -> list[float]:
    """ListNet targets of one list: the teacher's scores z-normalised within the list, times ``scale``.

    Normalising makes the target's sharpness independent of the teacher's score range (BM25 scores grow
    with query length, cosines live in [-1, 1]); ``scale`` sets how peaked the target distribution is.
    """
    return [float(v) for v in scale * normalize_scores(scores, "zscore")]


def build_teacher_lists(
    queries: Sequence[str],
    teacher: Teacher,
    top_k: int = 8,
    sampled: int = 8,
    depth: int = 100,
    seed: int = 0,
) -> list[TeacherList]:
    """One :class:`TeacherList` per query (queries whose teacher list is shorter than 2 are dropped).

    ``teacher`` must already be indexed on the corpus. Candidates keep the teacher's order: the top
    ``top_k`` first, then the sampled ones by rank.

    Raises:
        ValueError: on ``top_k < 1``, ``sampled < 0`` or ``depth < top_k + sampled``.
    """
    if top_k < 1 or sampled < 0:
        raise ValueError(f"need top_k >= 1 and sampled >= 0; found top_k={top_k}, sampled={sampled}.")
    if depth < top_k + sampled:
        raise ValueError(f"depth ({depth}) must be at least top_k + sampled ({top_k + sampled}).")
    rng = np.random.default_rng(seed)
    out = []
    for query, ranked in zip(queries, teacher.retrieve(list(queries), depth)):
        head, tail = ranked[:top_k], ranked[top_k:]
        if sampled and tail:
            picks = np.sort(rng.choice(len(tail), size=min(sampled, len(tail)), replace=False))
            head = head + [tail[i] for i in picks.tolist()]
        if len(head) >= 2:
            out.append(TeacherList(query, [i for i, _ in head], [float(s) for _, s in head]))
    return out


def lists_to_dataset(lists: Sequence[TeacherList], corpus: Sequence[str], scale: float) -> Any:
    """A ``datasets.Dataset`` of (query, [documents], [labels]) with ListNet targets from the teacher scores."""
    from datasets import Dataset

    if not lists:
        raise ValueError("no teacher list to train on: the teacher returned fewer than 2 documents per query.")
    return Dataset.from_dict({
        "query": [x.query for x in lists],
        "documents": [[corpus[i] for i in x.documents] for x in lists],
        "labels": [teacher_targets(x.teacher_scores, scale) for x in lists],
    })


def lists_to_tuples(lists: Sequence[TeacherList], corpus: Sequence[str], scale: float) -> Any:
    """(query, document_1, ..., document_n) rows with the n scaled teacher z-scores, for MarginMSELoss.

    The first document is the teacher's best; lists shorter than the longest are dropped (a tuple loss
    needs one width), and the count is in the error when none is left.
    """
    from datasets import Dataset

    width = max((len(x.documents) for x in lists), default=0)
    full = [x for x in lists if len(x.documents) == width]
    if not full:
        raise ValueError("no teacher list to train on: the teacher returned fewer than 2 documents per query.")
    rows: dict[str, list[Any]] = {"query": [x.query for x in full]}
    for column in range(width):
        rows[f"document_{column}"] = [corpus[x.documents[column]] for x in full]
    rows["labels"] = [teacher_targets(x.teacher_scores, scale) for x in full]
    return Dataset.from_dict(rows)
