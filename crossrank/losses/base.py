"""The loss contract: a loss is a pure function of a (B, G) grid of raw scores, its labels and a mask.

The trainer scores every valid (query, document) cell of the grid with the model and hands the loss
``scores`` (B, G) of raw logits (no activation), ``labels`` and ``mask`` (B, G) bool. Padding cells
(``mask`` False) hold an arbitrary finite value and must never reach a sum, a mean or a normaliser.
For models with several output labels, ``scores`` is (B, G, C).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from crossrank.losses._utils import fill_masked, masked_mean

if TYPE_CHECKING:
    from crossrank.data.grid import Grid
    from crossrank.model import CrossEncoder

InputFormat = Literal["pair", "tuple", "list", "in_batch"]
"""How a loss wants its rows:

- ``pair``: (query, document, label) -> grid (B, 1); label a number (or class id for multi-label models).
- ``tuple``: (query, doc_1, ..., doc_G[, labels]) -> grid (B, G); labels optional, list-valued.
- ``list``: (query, [documents], [labels]) -> ragged grid (B, max G) with a mask.
- ``in_batch``: (query, positive[, negative_1, ...]) without labels; the loss builds its grid from
  the other rows of the batch (see ``RerankLoss.build_grid``).
"""


class RerankLoss(nn.Module):
    """Base class of every crossrank loss.

    Subclasses set ``input_format`` (and ``needs_labels``), implement ``compute(scores, labels, mask)``
    and may override ``build_grid`` when they need a grid other than the rows themselves.
    """

    input_format: ClassVar[InputFormat] = "pair"
    needs_labels: ClassVar[bool] = True
    num_labels: ClassVar[int | None] = 1
    """The number of model outputs the loss needs (``None``: several, at least two)."""
    label_range: ClassVar[tuple[float, float] | None] = None
    """The closed interval every label must lie in (checked before training), or None for any number."""

    def __init__(self, model: CrossEncoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor | dict[str, Tensor]:
        """Compute the loss in fp32 from raw scores; see the module docstring for shapes."""
        return self.compute(scores.float(), None if labels is None else labels.float(), mask.bool())

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor | dict[str, Tensor]:
        raise NotImplementedError

    def build_grid(self, rows: list[dict[str, Any]], input_columns: list[str], label_column: str | None) -> Grid:
        """Turn a batch of dataset rows into the (B, G) grid this loss trains on."""
        from crossrank.data.grid import build_grid

        return build_grid(rows, input_columns, label_column, self.input_format)

    def get_config_dict(self) -> dict[str, Any]:
        """The loss's hyper-parameters, for the model card and logs."""
        return {}

    @property
    def citation(self) -> str | None:
        return None


__all__ = ["InputFormat", "RerankLoss", "masked_mean", "fill_masked", "torch"]
