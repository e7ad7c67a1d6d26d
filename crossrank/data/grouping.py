"""Group labeled (query, document, label) rows into per-query reranking samples."""

from __future__ import annotations

import logging
from typing import Any

from crossrank.data.columns import check_label_values, is_positive, resolve_roles

logger = logging.getLogger(__name__)


FIX = "select the columns, e.g. columns: [question, sentence, label] in a crossrank train data entry."


def group_labeled_pairs(rows: Any, columns: tuple[str, str, str] | None = None,
                        fix: str = FIX) -> list[dict[str, Any]]:
    """``[{query, positive: [...], negative: [...]}]`` from rows of (query, document, label).

    ``columns`` names the (query, document, label) columns; by default they follow
    :func:`crossrank.data.columns.resolve_roles` (by name, e.g. ``question``/``sentence``/``label`` in a
    WikiQA file with more columns; ``fix`` ends its errors). Labels are checked like training labels.
    Documents with a positive label (``> 0``, :func:`~crossrank.data.columns.is_positive`) are positives.
    Queries keep their first-appearance order, documents their row order. Queries without any positive are
    kept (the evaluator reports how many it skips).
    """
    if columns is None:
        roles = resolve_roles(list(rows.column_names), fix=fix)
        columns = (roles["query"], roles["document"], roles["label"])
    q_col, d_col, label_col = columns
    check_label_values(rows[label_col], label_col)
    samples: dict[str, dict[str, Any]] = {}
    for query, doc, label in zip(rows[q_col], rows[d_col], rows[label_col]):
        sample = samples.setdefault(query, {"query": query, "positive": [], "negative": []})
        sample["positive" if is_positive(label) else "negative"].append(doc)
    return list(samples.values())


def pairs_to_lists(rows: Any, keep_unanswered: bool = False, fix: str = FIX) -> Any:
    """A ``datasets.Dataset`` of (query, [documents], [labels]) lists from (query, document, label) rows.

    This is the input of the listwise losses (LambdaLoss, ListNet, ...). Queries keep their first-appearance
    order and documents their row order; labels keep their values (graded relevance stays graded). A list
    whose labels are all 0 carries no ranking signal (and pushes ListNet towards uniform scores), so such
    queries are dropped unless ``keep_unanswered``; the count is logged.
    """
    from datasets import Dataset

    roles = resolve_roles(list(rows.column_names), fix=fix)
    q_col, d_col, label_col = roles["query"], roles["document"], roles["label"]
    check_label_values(rows[label_col], label_col)
    lists: dict[str, dict[str, Any]] = {}
    for query, doc, label in zip(rows[q_col], rows[d_col], rows[label_col]):
        item = lists.setdefault(query, {q_col: query, "documents": [], "labels": []})
        item["documents"].append(doc)
        item["labels"].append(float(label))
    kept = [x for x in lists.values() if keep_unanswered or any(is_positive(v) for v in x["labels"])]
    if len(kept) < len(lists):
        logger.warning("Grouped %d rows into %d query lists; dropped %d queries whose labels are all 0 "
                       "(no ranking signal; keep them with keep_unanswered).", len(rows), len(kept),
                       len(lists) - len(kept))
    if not kept:
        raise ValueError(f"no query in the {len(rows)} rows has a positive label; a listwise loss needs some.")
    return Dataset.from_list(kept)
