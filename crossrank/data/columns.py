"""Column roles and one loud validation of a dataset against the loss that will train on it.

The convention: the label is the first column named ``label``, ``labels``, ``score`` or ``scores``;
every other column is an input, in order (first the query, then the document(s)).

Positive labels: wherever crossrank splits labelled documents into relevant and not (grouping pairs into
evaluator samples, ``crossrank evaluate`` on labelled pairs, ``crossrank mine --label-column``, BEIR qrels,
listwise lists without any positive), a label is positive when it is ``> 0`` (:func:`is_positive`). That
is the 0/1 reading of binary labels and the TREC/BEIR reading of graded relevance (0 = not relevant,
1, 2, ... = relevant); soft or similarity labels in [0, 1] (e.g. 0.3) therefore count as positive —
binarise such scores yourself (``label >= 0.5``) before grouping them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datasets

    from crossrank.data.grid import GridLoss

logger = logging.getLogger(__name__)

LABEL_COLUMNS = ("label", "labels", "score", "scores")
POSITIVE_ABOVE = 0.0
"""A label is positive when it is greater than this (see the module docstring)."""
QUERY_NAMES = ("query", "question", "anchor", "queries", "questions")
FORMAT_SHAPES = {
    "pair": "(query, document) + a label column",
    "tuple": "(query, document_1, ..., document_n) [+ a list-valued label column]",
    "list": "(query, [documents]) + a list-valued label column",
    "in_batch": "(query, positive[, negative_1, ...]) without labels",
}


@dataclass(frozen=True)
class ColumnRoles:
    """The input columns (in order) and the label column of a dataset."""

    inputs: list[str]
    label: str | None


def resolve_columns(column_names: list[str]) -> ColumnRoles:
    """Split column names into inputs and the label (the first of label/labels/score/scores)."""
    label = next((c for c in column_names if c in LABEL_COLUMNS), None)
    if label is not None:
        others = [c for c in column_names if c in LABEL_COLUMNS and c != label]
        if others:
            raise ValueError(
                f"found several label columns {[label, *others]}; keep one, e.g. "
                f"dataset = dataset.remove_columns({others!r})."
            )
    return ColumnRoles([c for c in column_names if c != label], label)


LOSS_INPUT_FORMATS: dict[str, str] = {}
"""Loss class name -> the input format it accepts; ``crossrank.losses`` registers its losses here, so that
validation errors can name the losses that would accept the data without this module importing them."""


def register_input_format(loss_name: str, input_format: str) -> None:
    """Record that the loss ``loss_name`` trains on ``input_format`` data (``pair``, ``tuple``, ...)."""
    LOSS_INPUT_FORMATS[loss_name] = input_format


def is_positive(label: float) -> bool:
    """Whether a label marks a relevant document: ``label > 0`` (see the module docstring)."""
    return float(label) > POSITIVE_ABOVE


def _accepting_losses(input_format: str) -> list[str]:
    return sorted(name for name, accepted in LOSS_INPUT_FORMATS.items() if accepted == input_format)


def _data_format(dataset: datasets.Dataset, roles: ColumnRoles) -> str:
    if len(roles.inputs) == 2 and isinstance(dataset[0][roles.inputs[1]], list):
        return "list"
    if len(roles.inputs) > 2:
        return "tuple"
    return "pair"


def _shape_error(loss_name: str, want: str, roles: ColumnRoles, found: str, fix: str) -> ValueError:
    alternatives = ", ".join(_accepting_losses(found)) or "none"
    return ValueError(
        f"{loss_name} expects {FORMAT_SHAPES[want]}; found input columns {roles.inputs} and label column "
        f"{roles.label!r} ({found} data, which {alternatives} accept). Fix: {fix}"
    )


def _check_shape(dataset: datasets.Dataset, roles: ColumnRoles, loss: GridLoss) -> str:
    want, name = loss.input_format, type(loss).__name__
    found = _data_format(dataset, roles)
    keep = roles.inputs[:2] + ([roles.label] if roles.label else [])
    if want == "pair" and (len(roles.inputs) != 2 or found != "pair"):
        raise _shape_error(name, want, roles, found, f"dataset = dataset.select_columns({keep!r}).")
    if want == "list" and found != "list":
        raise _shape_error(name, want, roles, found, "group the rows per query into (query, [documents], [labels]).")
    if want in ("tuple", "in_batch") and (len(roles.inputs) < 2 or found == "list"):
        raise _shape_error(name, want, roles, found, "give one column per document after the query column.")
    if loss.needs_labels and roles.label is None:
        raise ValueError(
            f"{name} needs a label column named one of {list(LABEL_COLUMNS)}; found columns {roles.inputs}. "
            "Fix: dataset = dataset.rename_column('<your label column>', 'label')."
        )
    return found


def _check_text(dataset: datasets.Dataset, column: str) -> None:
    for i, value in enumerate(dataset[column]):
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, str):
                raise ValueError(
                    f"column {column!r} row {i} holds {type(item).__name__} {item!r}; inputs must be text. "
                    "Fix: convert with dataset.map or drop the row with dataset.filter."
                )
            if not item.strip():
                raise ValueError(
                    f"column {column!r} row {i} is an empty string; every input needs text. "
                    f"Fix: dataset = dataset.filter(lambda r: r[{column!r}].strip() != '')."
                )


def _check_labels(dataset: datasets.Dataset, column: str) -> None:
    for i, value in enumerate(dataset[column]):
        items = value if isinstance(value, list) else [value]
        for item in items:
            bad = isinstance(item, bool) or not isinstance(item, (int, float))
            if bad or math.isnan(float(item)) or math.isinf(float(item)):
                raise ValueError(
                    f"label column {column!r} row {i} holds {item!r}; labels must be finite numbers. "
                    "Fix: cast with dataset.map or drop the row with dataset.filter."
                )


def _warn_order(roles: ColumnRoles) -> None:
    for position, column in enumerate(roles.inputs):
        if position > 0 and column.lower() in QUERY_NAMES:
            logger.warning(
                "column %r looks like the query but is input %d; inputs are read in column order "
                "(query first). Reorder with dataset.select_columns([...]) if this is not intended.",
                column, position + 1,
            )


def validate_for_loss(dataset: datasets.Dataset, loss: GridLoss, model_num_labels: int | None = None,
                      dataset_name: str | None = None) -> ColumnRoles:
    """Check ``dataset`` against ``loss`` once, before training; raise a one-line error naming the fix."""
    where = f"dataset {dataset_name!r}: " if dataset_name else ""
    if len(dataset) == 0:
        raise ValueError(f"{where}the training dataset is empty; give at least one row.")
    roles = resolve_columns(list(dataset.column_names))
    try:
        _check_shape(dataset, roles, loss)
        for column in roles.inputs:
            _check_text(dataset, column)
        if roles.label is not None:
            _check_labels(dataset, roles.label)
        want = loss.num_labels
        if model_num_labels is not None and want is not None and model_num_labels != want:
            raise ValueError(
                f"{type(loss).__name__} needs a model with {want} output label(s); this model has "
                f"{model_num_labels}. Fix: load it with CrossEncoder(..., num_labels={want}) or pick another loss."
            )
    except ValueError as err:
        raise ValueError(f"{where}{err}") from None
    _warn_order(roles)
    return roles

