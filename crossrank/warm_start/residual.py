"""Residual training: the loss sees ``reranker_logit + weight * z(first-stage score)``.

A reranker deployed with first-stage fusion ranks by a blend of its own score and the retriever's. Trained
with the first-stage score inside the loss, the reranker only has to learn what the first stage misses:
the stored fusion adds the first stage back at ranking time (tune its weight on dev as usual).

The first-stage scores travel in the label column: each list's labels are ``[label_1..label_n,
first_1..first_n]`` (:func:`with_first_stage` builds them), so no new column role is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from crossrank.data.grid import Grid, build_grid
from crossrank.inference.fusion import normalize_scores
from crossrank.losses.base import RerankLoss


def with_first_stage(dataset: Any, first_stage: Sequence[Sequence[float]]) -> Any:
    """``dataset`` (query, [documents], [labels]) with each list's first-stage scores appended to its labels.

    The scores are z-normalised within each list here, once.

    Raises:
        ValueError: when a list's first-stage scores do not match its documents one to one.
    """
    roles = [c for c in dataset.column_names if c in ("label", "labels", "score", "scores")]
    if len(roles) != 1 or len(first_stage) != len(dataset):
        raise ValueError(f"with_first_stage needs one label column and one score list per row; found label "
                         f"columns {roles} and {len(first_stage)} score lists for {len(dataset)} rows.")
    label = roles[0]
    merged = []
    for i, (labels, scores) in enumerate(zip(dataset[label], first_stage)):
        if len(scores) != len(labels):
            raise ValueError(f"row {i}: {len(labels)} labels but {len(scores)} first-stage scores; give one "
                             "first-stage score per document.")
        merged.append([float(v) for v in labels] + [float(v) for v in normalize_scores(scores, "zscore")])
    return dataset.remove_columns(label).add_column(label, merged)


class ResidualLoss(RerankLoss):
    """Wrap a listwise loss so that it scores ``logit + weight * z(first stage)`` (see the module docstring).

    Inputs:
        | data                         | labels                                        | model outputs |
        |------------------------------|-----------------------------------------------|---------------|
        | (query, [doc_1, ..., doc_n]) | [label_1..label_n, first_1..first_n] (2n)     | 1             |

    Args:
        model: the CrossEncoder being trained.
        base: the listwise loss on the shifted scores (e.g. ``ListNetLoss(model)``).
        weight: how much of the (z-scored) first-stage score is added to the logits.
    """

    input_format = "list"

    def __init__(self, model: Any, base: RerankLoss, weight: float = 1.0) -> None:
        super().__init__(model)
        if base.input_format != "list":
            raise ValueError(f"ResidualLoss wraps a listwise loss; {type(base).__name__} takes "
                             f"{base.input_format!r} rows.")
        self.base, self.weight = base, float(weight)

    def build_grid(self, rows: list[dict[str, Any]], input_columns: list[str], label_column: str | None,
                   generator: torch.Generator | None = None) -> Grid:
        if label_column is None:
            raise ValueError("ResidualLoss needs labels holding [labels..., first-stage scores...] per list.")
        split = []
        for i, row in enumerate(rows):
            docs, values = list(row[input_columns[1]]), list(row[label_column])
            if len(values) != 2 * len(docs):
                raise ValueError(f"row {i}: {len(docs)} documents need {2 * len(docs)} labels (labels, then "
                                 f"first-stage scores); found {len(values)}. Build them with with_first_stage.")
            split.append((values[: len(docs)], values[len(docs):]))
        grid = build_grid([{**r, label_column: s[0]} for r, s in zip(rows, split)], input_columns, label_column,
                          "list")
        first = build_grid([{**r, label_column: s[1]} for r, s in zip(rows, split)], input_columns, label_column,
                           "list").labels
        grid.labels = torch.stack([grid.labels, first], dim=-1)  # type: ignore[list-item]
        return grid

    def compute(self, scores: Tensor, labels: Tensor | None, mask: Tensor) -> Tensor:
        if labels is None or labels.dim() != 3:
            raise ValueError("ResidualLoss expects labels of shape (batch, documents, 2) from its own build_grid.")
        shifted = scores + self.weight * labels[..., 1]
        return self.base.compute(shifted, labels[..., 0], mask)

    def get_config_dict(self) -> dict[str, Any]:
        return {"base": type(self.base).__name__, "weight": self.weight, **self.base.get_config_dict()}
