"""The training collator: rows -> (B, G) grid (via the loss) -> one tokenization of the valid cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from crossrank.data.columns import resolve_columns

if TYPE_CHECKING:
    from crossrank.losses.base import RerankLoss
    from crossrank.model import CrossEncoder


@dataclass
class RerankCollator:
    """Collate dataset rows for ``loss``: tokenizes each valid (query, document) cell once, padded to the
    longest pair of the batch.

    The batch holds ``features`` (tokenized pairs, row-major over valid cells), ``labels`` (B, G) — zeros
    when the loss takes none — and ``mask`` (B, G).
    """

    model: CrossEncoder
    loss: RerankLoss

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        roles = resolve_columns(list(rows[0]))
        grid = self.loss.build_grid(rows, roles.inputs, roles.label)
        pairs = grid.pairs()
        features = self.model.tokenize(pairs, padding=True)
        labels = grid.labels if grid.labels is not None else torch.zeros(grid.mask.shape)
        return {"features": dict(features), "labels": labels, "mask": grid.mask}
