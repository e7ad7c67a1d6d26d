"""Group labeled (query, document, label) rows into per-query reranking samples."""

from __future__ import annotations

import logging
from typing import Any

from crossrank.data.columns import resolve_columns

logger = logging.getLogger(__name__)


def group_labeled_pairs(rows: Any, threshold: float = 0.5) -> list[dict[str, Any]]:
    """``[{query, positive: [...], negative: [...]}]`` from rows of (query, document, label).

    Documents whose label is above ``threshold`` are positives. Queries keep their first-appearance
    order, documents their row order. Queries without any positive are kept (the evaluator reports how
    many it skips).
    """
    roles = resolve_columns(list(rows.column_names))
    if len(roles.inputs) < 2 or roles.label is None:
        raise ValueError(
            f"grouping needs (query, document) columns and a label column; found inputs {roles.inputs} "
            f"and label {roles.label!r}. Fix: name the relevance column 'label'."
        )
    q_col, d_col = roles.inputs[:2]
    samples: dict[str, dict[str, Any]] = {}
    for query, doc, label in zip(rows[q_col], rows[d_col], rows[roles.label]):
        sample = samples.setdefault(query, {"query": query, "positive": [], "negative": []})
        sample["positive" if float(label) > threshold else "negative"].append(doc)
    return list(samples.values())
