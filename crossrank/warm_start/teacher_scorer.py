"""Score an evaluator's (query, document) pairs with a teacher, so its dev metrics come from the same code.

:class:`TeacherScorer` has the ``predict`` an evaluator calls. Documents outside the corpus the teacher
indexed are added to its index first (``Teacher.extend``: their text only), so a dev file whose candidates
are not in the training corpus can still be scored.
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
        self._size = len(corpus)
        for i, text in enumerate(corpus):
            self._index.setdefault(text, i)

    def _add_missing(self, pairs: Sequence[tuple[str, str]]) -> None:
        missing = list(dict.fromkeys(doc for _, doc in pairs if doc not in self._index))
        if not missing:
            return
        if not hasattr(self.teacher, "extend"):
            raise ValueError(
                f"the teacher can only score documents of its corpus and cannot add others; {len(missing)} are "
                f"not in it (e.g. {missing[0][:60]!r}). Evaluate it on lists drawn from the corpus it indexed."
            )
        self.teacher.extend(missing)
        for offset, text in enumerate(missing):
            self._index[text] = self._size + offset
        self._size += len(missing)

    def predict(self, pairs: Sequence[tuple[str, str]], **_: Any) -> np.ndarray:
        """Teacher scores of ``pairs``; consecutive pairs with the same query are scored as one list."""
        self._add_missing(pairs)
        runs: list[tuple[str, list[int]]] = []
        for query, doc in pairs:
            if not runs or runs[-1][0] != query:
                runs.append((query, []))
            runs[-1][1].append(self._index[doc])
        if not runs:
            return np.zeros(0, dtype=np.float64)
        scores = self.teacher.score([q for q, _ in runs], [c for _, c in runs])
        return np.concatenate([np.asarray(s, dtype=np.float64) for s in scores])
