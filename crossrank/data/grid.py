"""The (B, G) grid: B queries, each paired with up to G documents, with labels and a validity mask.

Every loss trains on a grid. ``build_grid`` makes one from dataset rows for the standard input formats
(``pair``, ``tuple``, ``list``); losses that need another shape (in-batch negatives) build their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass
class Grid:
    """B queries by G document slots; ``mask[b, g]`` tells whether slot ``g`` of row ``b`` holds a document."""

    queries: list[str]
    documents: list[list[str]]
    mask: Tensor
    labels: Tensor | None = None

    def pairs(self) -> list[tuple[str, str]]:
        """The (query, document) pairs of the valid cells, in row-major order."""
        return [
            (q, d)
            for q, docs, row in zip(self.queries, self.documents, self.mask.tolist())
            for d, ok in zip(docs, row)
            if ok
        ]


def _as_float_tensor(values: Sequence[Any], what: str) -> Tensor:
    try:
        return torch.tensor(values, dtype=torch.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be numbers; found {values[:3]!r}... ({err}).") from err


def _pad_lists(lists: list[list[Any]], fill: Any) -> tuple[list[list[Any]], Tensor]:
    width = max((len(x) for x in lists), default=0)
    mask = torch.zeros((len(lists), width), dtype=torch.bool)
    padded = []
    for i, x in enumerate(lists):
        mask[i, : len(x)] = True
        padded.append(list(x) + [fill] * (width - len(x)))
    return padded, mask


def build_grid(
    rows: list[dict[str, Any]], input_columns: list[str], label_column: str | None, input_format: str
) -> Grid:
    """Build the grid for ``pair``, ``tuple`` or ``list`` rows (see ``crossrank.losses.base.InputFormat``)."""
    queries = [str(r[input_columns[0]]) for r in rows]
    raw_labels = [r[label_column] for r in rows] if label_column else None
    if input_format == "pair":
        docs = [[r[input_columns[1]]] for r in rows]
        mask = torch.ones((len(rows), 1), dtype=torch.bool)
        labels = None if raw_labels is None else _as_float_tensor(raw_labels, "labels").view(-1, 1)
        return Grid(queries, docs, mask, labels)
    if input_format == "tuple":
        docs = [[r[c] for c in input_columns[1:]] for r in rows]
        mask = torch.ones((len(rows), len(input_columns) - 1), dtype=torch.bool)
        labels = None if raw_labels is None else _as_float_tensor(raw_labels, "labels")
        return Grid(queries, docs, mask, labels)
    if input_format == "list":
        doc_lists = [list(r[input_columns[1]]) for r in rows]
        docs, mask = _pad_lists(doc_lists, "")
        labels = None
        if raw_labels is not None:
            for i, (d, lab) in enumerate(zip(doc_lists, raw_labels)):
                if len(d) != len(lab):
                    raise ValueError(
                        f"row {i} has {len(d)} documents but {len(lab)} labels; each document list "
                        f"needs exactly one label per document."
                    )
            padded, _ = _pad_lists([list(x) for x in raw_labels], 0.0)
            labels = _as_float_tensor(padded, "labels")
        return Grid(queries, docs, mask, labels)
    raise ValueError(
        f"build_grid knows the formats 'pair', 'tuple' and 'list'; found {input_format!r}. "
        "Losses with another format must override RerankLoss.build_grid."
    )
