"""Multi-dataset training: named datasets, a loss per dataset, and their validation before training.

``train_dataset``/``eval_dataset`` may be a ``dict`` or ``DatasetDict`` of named datasets; ``loss`` may be
one loss (used for every dataset) or a dict keyed by the same names. Each dataset is validated against
its own loss once, before training, and errors name the dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from crossrank.data.columns import validate_for_loss
from crossrank.losses.base import RerankLoss

if TYPE_CHECKING:
    from crossrank.model import CrossEncoder

LossSpec = RerankLoss | Mapping[str, RerankLoss]


def check_loss_keys(losses: Mapping[str, RerankLoss], train_dataset: Any) -> None:
    """A dict of losses needs a dict of train datasets with exactly the same names."""
    if train_dataset is None:
        return
    if not isinstance(train_dataset, Mapping):
        raise ValueError(
            f"loss is a dict with keys {sorted(losses)} but train_dataset is a single dataset; a dict of losses "
            "needs train_dataset as a dict (or DatasetDict) with the same keys. Fix: pass "
            "train_dataset={name: dataset, ...} or a single loss."
        )
    if set(losses) != set(train_dataset):
        raise ValueError(
            f"loss dict keys {sorted(losses)} do not match the train datasets {sorted(train_dataset)}; "
            "give exactly one loss per train dataset name."
        )
    for name, loss in losses.items():
        if not isinstance(loss, RerankLoss):
            raise TypeError(f"loss[{name!r}] must be a crossrank RerankLoss; found {type(loss).__name__}.")


def loss_for(loss: LossSpec, name: str | None, split: str = "train") -> RerankLoss:
    """The loss for dataset ``name`` (``loss`` itself when it is a single loss)."""
    if isinstance(loss, RerankLoss):
        return loss
    if name not in loss:
        raise ValueError(
            f"{split} dataset {name!r} has no loss: the loss dict has keys {sorted(loss)}. "
            f"Fix: name the {split} datasets like the losses, or add a loss for {name!r}."
        )
    return loss[name]


def validate_datasets(model: CrossEncoder, loss: LossSpec, train_dataset: Any, eval_dataset: Any) -> None:
    """Validate every (named) dataset against the loss that will train or evaluate on it."""
    if isinstance(loss, Mapping):
        check_loss_keys(loss, train_dataset)
        if eval_dataset is not None and not isinstance(eval_dataset, Mapping):
            raise ValueError(
                f"loss is a dict with keys {sorted(loss)} but eval_dataset is a single dataset; pass "
                "eval_dataset as a dict keyed like the losses."
            )
    for split, data in (("train", train_dataset), ("eval", eval_dataset)):
        if data is None:
            continue
        named = data.items() if isinstance(data, Mapping) else [(None, data)]
        for name, dataset in named:
            validate_for_loss(dataset, loss_for(loss, name, split), model.num_labels,
                              dataset_name=split if name is None else name)
