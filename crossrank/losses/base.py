"""The loss contract: a loss is a pure function of a (B, G) grid of raw scores, its labels and a mask.

The trainer scores every valid (query, document) cell of the grid with the model and hands the loss
``scores`` (B, G) of raw logits (no activation), ``labels`` and ``mask`` (B, G) bool. Padding cells
(``mask`` False) hold an arbitrary finite value and must never reach a sum, a mean or a normaliser.
For models with several output labels, ``scores`` is (B, G, C).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from crossrank.data.grid import Grid, GridSpec, InputFormat, build_grid
from crossrank.losses._utils import fill_masked, masked_mean

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder


class RerankLoss(nn.Module):
    """Base class of every crossrank loss.

    Subclasses set ``input_format`` (and ``needs_labels``), implement ``compute(scores, labels, mask)``
    and override ``grid_spec`` when the grid needs a parameter (in-batch negatives). The grids themselves
    are built by ``crossrank.data.grid`` (``InputFormat`` lists the formats).
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

    def grid_spec(self) -> GridSpec:
        """The grid this loss trains on (``crossrank.data.grid`` builds it)."""
        return GridSpec(self.input_format)

    def build_grid(self, rows: list[dict[str, Any]], input_columns: list[str], label_column: str | None,
                   generator: torch.Generator | None = None) -> Grid:
        """The (B, G) grid of a batch of dataset rows for this loss (``data.grid.build_grid`` with its spec)."""
        spec = self.grid_spec()
        return build_grid(rows, input_columns, label_column, spec.input_format, spec.in_batch_negatives, generator)

    def get_config_dict(self) -> dict[str, Any]:
        """The loss's hyper-parameters, for the model card and logs."""
        return {}


__all__ = ["InputFormat", "RerankLoss", "masked_mean", "fill_masked"]
