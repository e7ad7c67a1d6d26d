"""The training collator: rows -> (B, G) grid (the loss's grid spec) -> one tokenization of the valid cells."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from crossrank.data.columns import resolve_columns
from crossrank.data.grid import GridLoss, batch_generator


class PairTokenizer(Protocol):
    """What the collator needs of a model: ``tokenize(pairs, padding=True)`` (``CrossEncoder`` has it)."""

    def tokenize(self, pairs: list[tuple[str, str]], padding: bool = True) -> Any: ...

DATASET_KEY = "__crossrank_dataset__"
"""Rows of multi-dataset training carry their dataset's name under this key (set by the trainer)."""


@dataclass
class RerankCollator:
    """Collate dataset rows for ``loss``: tokenizes each valid (query, document) cell once, padded to the
    longest pair of the batch.

    ``loss`` is one loss, or a mapping from dataset name to loss for multi-dataset training; then each
    row names its dataset under ``DATASET_KEY`` and all rows of a batch must come from one dataset.

    The batch holds ``features`` (tokenized pairs, row-major over valid cells), ``labels`` (B, G) — zeros
    when the loss takes none — ``mask`` (B, G), and ``dataset_name`` (the dataset's name, or None).

    In-batch negatives are drawn from a generator seeded with ``seed`` and the batch's queries
    (``data.grid.batch_generator``), never from the global random state.
    """

    model: PairTokenizer
    loss: GridLoss | Mapping[str, GridLoss]
    seed: int = 0

    def _split_name(self, rows: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
        if DATASET_KEY not in rows[0]:
            return None, rows
        names = {r[DATASET_KEY] for r in rows}
        if len(names) != 1:
            raise ValueError(
                f"a batch mixes rows of the datasets {sorted(names)}; each batch must come from one dataset. "
                "Fix: let the Trainer build the batches (MultiDatasetBatchSampler)."
            )
        return names.pop(), [{k: v for k, v in r.items() if k != DATASET_KEY} for r in rows]

    def loss_for(self, name: str | None) -> GridLoss:
        """The loss that trains on rows of dataset ``name``."""
        if not isinstance(self.loss, Mapping):
            return self.loss
        if name not in self.loss:
            raise ValueError(
                f"no loss for dataset {name!r}: the loss dict has keys {sorted(self.loss)}. "
                "Fix: give a loss for every dataset name."
            )
        return self.loss[name]

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        name, rows = self._split_name(rows)
        roles = resolve_columns(list(rows[0]))
        loss = self.loss_for(name)
        in_batch = loss.grid_spec().input_format == "in_batch"
        generator = batch_generator(self.seed, rows, roles.inputs[0]) if in_batch else None
        grid = loss.build_grid(rows, roles.inputs, roles.label, generator)  # the loss's own (ResidualLoss adds one)
        pairs = grid.pairs()
        features = self.model.tokenize(pairs, padding=True)
        labels = grid.labels if grid.labels is not None else torch.zeros(grid.mask.shape)
        return {"features": dict(features), "labels": labels, "mask": grid.mask, "dataset_name": name}
