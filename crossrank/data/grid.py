"""The (B, G) grid: B queries, each paired with up to G documents, with labels and a validity mask.

Every loss trains on a grid, and every grid is built here from a batch of dataset rows, by the input
format the loss declares (:data:`InputFormat`, via :meth:`GridLoss.grid_spec`):

- ``pair``: (query, document, label) -> grid (B, 1); label a number (or class id for multi-label models).
- ``tuple``: (query, doc_1, ..., doc_G[, labels]) -> grid (B, G); labels optional, list-valued.
- ``list``: (query, [documents], [labels]) -> ragged grid (B, max G) with a mask.
- ``in_batch``: (query, positive[, negative_1, ...]) without labels; row i holds ``[positive_i,
  n documents drawn from the OTHER rows (their positives and negatives), row i's own negatives]``.

In-batch draws use the ``generator`` passed in; the training collator passes one seeded from the training
seed and the batch's queries, so runs repeat (also with data-loader workers or after a resume) and never
touch the global random state. Without a generator the global torch RNG is used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import torch
from torch import Tensor

InputFormat = Literal["pair", "tuple", "list", "in_batch"]
"""How a loss wants its rows (see the module docstring)."""


@dataclass(frozen=True)
class GridSpec:
    """The grid a loss trains on: its input format and, for ``in_batch``, how many negatives to draw.

    Attributes:
        input_format: one of :data:`InputFormat`.
        in_batch_negatives: documents drawn per row from the other rows (``None``: all of them).
    """

    input_format: InputFormat
    in_batch_negatives: int | None = None


class GridLoss(Protocol):
    """What data validation and the collator need from a loss (``crossrank.losses.RerankLoss`` has it)."""

    input_format: InputFormat
    needs_labels: bool
    num_labels: int | None
    label_range: tuple[float, float] | None

    def grid_spec(self) -> GridSpec: ...

    def build_grid(self, rows: list[dict[str, Any]], input_columns: list[str], label_column: str | None,
                   generator: torch.Generator | None = None) -> Grid: ...


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


def sample_in_batch_negatives(
    batch_size: int, num_columns: int, num_negatives: int | None, generator: torch.Generator | None = None
) -> Tensor:
    """Indices (B, n) into the column-major flattened candidates (``column * B + row``) of other rows.

    With ``num_negatives`` None, or at least the number of candidates from other rows, every such
    candidate is used in order; otherwise ``num_negatives`` are drawn per row without replacement.
    """
    others = ~torch.eye(batch_size, dtype=torch.bool).repeat(1, num_columns)
    available = (batch_size - 1) * num_columns
    if num_negatives is not None and num_negatives < available:
        return torch.multinomial(others.float(), num_negatives, generator=generator)
    every = torch.arange(batch_size * num_columns).repeat(batch_size, 1)
    return every[others].reshape(batch_size, available)


def in_batch_grid(rows: list[dict[str, Any]], input_columns: list[str], num_negatives: int | None,
                  generator: torch.Generator | None = None) -> Grid:
    """Row i: ``[positive_i, sampled documents of the other rows, row i's own negatives]`` (no labels)."""
    if len(input_columns) < 2:
        raise ValueError(
            f"an in_batch grid needs (query, positive[, negative_1, ...]) columns; found {input_columns}. "
            "Add a positive document column."
        )
    queries = [str(r[input_columns[0]]) for r in rows]
    columns = [[r[c] for r in rows] for c in input_columns[1:]]
    flat = [doc for column in columns for doc in column]
    sampled = sample_in_batch_negatives(len(rows), len(columns), num_negatives, generator).tolist()
    documents = [
        [columns[0][i]] + [flat[j] for j in sampled[i]] + [column[i] for column in columns[1:]]
        for i in range(len(rows))
    ]
    width = len(documents[0]) if documents else 0
    return Grid(queries, documents, torch.ones((len(rows), width), dtype=torch.bool), None)


def batch_generator(seed: int, rows: list[dict[str, Any]], query_column: str) -> torch.Generator:
    """A generator seeded from ``seed`` and the batch's queries: the same batch always draws the same."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(str(seed).encode())
    for row in rows:
        digest.update(b"\x1f" + str(row[query_column]).encode("utf-8", "surrogatepass"))
    return torch.Generator().manual_seed(int.from_bytes(digest.digest(), "little") >> 1)


def build_grid(
    rows: list[dict[str, Any]], input_columns: list[str], label_column: str | None, input_format: str,
    num_negatives: int | None = None, generator: torch.Generator | None = None,
) -> Grid:
    """Build the grid of a batch for ``input_format`` (see the module docstring).

    Args:
        rows: the batch's dataset rows.
        input_columns: the input columns in order, the query first.
        label_column: the label column, or None.
        input_format: ``pair``, ``tuple``, ``list`` or ``in_batch``.
        num_negatives: ``in_batch`` only: documents drawn from the other rows (``None``: all).
        generator: ``in_batch`` only: the random source of the draws (``None``: the global torch RNG).
    """
    if input_format == "in_batch":
        return in_batch_grid(rows, input_columns, num_negatives, generator)
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
        f"build_grid knows the formats 'pair', 'tuple', 'list' and 'in_batch'; found {input_format!r}. "
        "Declare one of them as the loss's input_format."
    )
