"""Score an evaluator's (query, document) pairs with a teacher, so its dev metrics come from the same code.

:class:`TeacherScorer` has the ``predict`` an evaluator calls; the documents must be texts of the corpus
the teacher indexed (the evaluator's lists are first-stage candidates from that corpus).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from crossrank.warm_start.teachers import Teacher


class TeacherScorer:
    """A model-like wrapper around an indexed teacher: ``predict(pairs) -> one teacher score per pair``."""

    fusion = None

    def __init__(self, teacher: Teacher, corpus: Sequence[str]) -> None:
        self.teacher = teacher
        self._index: dict[str, int] = {}
        for i, text in enumerate(corpus):
            self._index.setdefault(text, i)

    def predict(self, pairs: Sequence[tuple[str, str]], **_: Any) -> np.ndarray:
        """Teacher scores of ``pairs``; consecutive pairs with the same query are scored as one list."""
        runs: list[tuple[str, list[int]]] = []
        for query, doc in pairs:
            if doc not in self._index:
                raise ValueError(
                    f"the teacher can only score documents of its corpus; found one that is not in it: "
                    f"{doc[:60]!r}. Evaluate the teacher on lists drawn from the corpus it indexed."
                )
            if not runs or runs[-1][0] != query:
                runs.append((query, []))
            runs[-1][1].append(self._index[doc])
        if not runs:
            return np.zeros(0, dtype=np.float64)
        scores = self.teacher.score([q for q, _ in runs], [c for _, c in runs])
        return np.concatenate([np.asarray(s, dtype=np.float64) for s in scores])
