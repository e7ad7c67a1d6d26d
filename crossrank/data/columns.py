"""Column roles and one loud validation of a dataset against the loss that will train on it.

Two views of one rule:

- training rows (the reference's convention): the label is the column named ``label``, ``labels``,
  ``score`` or ``scores``; every other column is an input, in order (first the query, then the
  document(s)). Names that contradict the order (a ``question`` column that is not first) are an error.
- readers that pick a query, a document and a label out of wider rows (the ``crossrank train``
  evaluator, ``evaluate``, ``mine``, grouping into lists) use :func:`resolve_roles`: each role is the
  column with a known name (``query|question|anchor|...``, ``document|passage|sentence|text|positive|...``,
  ``label|labels|score|scores``); position decides only when no name matches, and anything ambiguous is
  an error that names the columns and how to choose.

Positive labels: wherever crossrank splits labelled documents into relevant and not (grouping pairs into
evaluator samples, ``crossrank evaluate`` on labelled pairs, ``crossrank mine --label-column``, BEIR qrels,
listwise lists without any positive), a label is positive when it is ``> 0`` (:func:`is_positive`). That
is the 0/1 reading of binary labels and the TREC/BEIR reading of graded relevance (0 = not relevant,
1, 2, ... = relevant); soft or similarity labels in [0, 1] (e.g. 0.3) therefore count as positive —
binarise such scores yourself (``label >= 0.5``) before grouping them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datasets

    from crossrank.data.grid import GridLoss

LABEL_COLUMNS = ("label", "labels", "score", "scores")
POSITIVE_ABOVE = 0.0
"""A label is positive when it is greater than this (see the module docstring)."""
QUERY_NAMES = ("query", "question", "anchor", "queries", "questions", "q", "sentence1", "text1", "premise")
DOCUMENT_NAMES = ("document", "documents", "doc", "docs", "d", "passage", "passages", "positive", "sentence",
                  "sentences", "text", "answer", "answers", "context", "response", "sentence2", "text2",
                  "hypothesis")
ROLE_NAMES = {"query": QUERY_NAMES, "document": DOCUMENT_NAMES}
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


def _id_like(name: str) -> bool:
    low = name.lower()
    return low in ("id", "_id", "idx", "index") or low.endswith(("_id", "id")) and len(low) <= 6


def _ambiguous(role: str, options: list[str], columns: list[str], fix: str) -> ValueError:
    return ValueError(
        f"cannot tell which column is the {role}: {options} could each be it (columns {columns}). Fix: {fix}"
    )


def resolve_roles(column_names: list[str], needed: tuple[str, ...] = ("query", "document", "label"),
                  fix: str = "rename the columns to query, document and label.") -> dict[str, str]:
    """The column of each ``needed`` role (``query``, ``document``, ``label``), by name, else by position.

    A role's column is the one whose name is known for it (case-insensitive); when no text column has a
    known name, the non-label columns (ID-like names such as ``qid`` aside) fill the text roles in order,
    and only if there are exactly as many. Raises a ``ValueError`` ending in ``Fix: {fix}`` otherwise.
    """
    columns = list(column_names)
    label = resolve_columns(columns).label
    roles: dict[str, str] = {}
    if "label" in needed:
        if label is None:
            raise ValueError(f"no label column: expected one named one of {list(LABEL_COLUMNS)}; found columns "
                             f"{columns}. Fix: {fix}")
        roles["label"] = label
    text_roles = [r for r in needed if r != "label"]
    candidates = [c for c in columns if c not in LABEL_COLUMNS]
    for role in text_roles:
        matches = [c for c in candidates if c.lower() in ROLE_NAMES[role] and c not in roles.values()]
        if len(matches) > 1:
            raise _ambiguous(role, matches, columns, fix)
        if matches:
            roles[role] = matches[0]
    missing = [r for r in text_roles if r not in roles]
    if missing:
        rest = [c for c in candidates if c not in roles.values()]
        if len(rest) > len(missing):
            rest = [c for c in rest if not _id_like(c)]
        if len(rest) != len(missing):
            what = " and the ".join(missing)
            raise _ambiguous(what, rest, columns, fix) if rest else ValueError(
                f"no column for the {what}: found columns {columns}. Fix: {fix}")
        roles.update(zip(missing, rest))
    return {role: roles[role] for role in needed}


LOSS_INPUT_FORMATS: dict[str, str] = {}
"""Loss class name -> the input format it accepts; ``crossrank.losses`` registers its losses here, so that
validation errors can name the losses that would accept the data without this module importing them."""


def resolve_pair(columns: list[str], query: str | None, document: str | None, fix: str) -> tuple[str, str]:
    """(query, document) columns: the given names, the missing ones picked by :func:`resolve_roles`."""
    if query is not None and document is not None:
        return query, document
    rest = [c for c in columns if c not in (query, document)]
    needed = tuple(role for role, given in (("query", query), ("document", document)) if given is None)
    roles = resolve_roles(rest, needed, fix=fix)
    return query or roles["query"], document or roles["document"]


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


def _pair_fix(roles: ColumnRoles) -> str:
    """The ``select_columns`` call that keeps a (query, document, label) pair, chosen by :func:`resolve_roles`."""
    names = roles.inputs + ([roles.label] if roles.label else [])
    try:
        picked = resolve_roles(names, ("query", "document", "label") if roles.label else ("query", "document"))
        keep = list(picked.values())
    except ValueError:
        return ("keep one query column, one document column and the label, e.g. dataset = "
                f"dataset.select_columns([<query>, <document>{', ' + repr(roles.label) if roles.label else ''}]).")
    return f"dataset = dataset.select_columns({keep!r})."


def _check_shape(dataset: datasets.Dataset, roles: ColumnRoles, loss: GridLoss) -> str:
    want, name = loss.input_format, type(loss).__name__
    found = _data_format(dataset, roles)
    if want != "list" and found == "list":
        raise _shape_error(name, want, roles, found, "do not group the rows into per-query lists (remove "
                           "'lists: true' from the data entry of a crossrank train config), or train with a loss "
                           f"that takes lists: {', '.join(_accepting_losses('list'))}.")
    if len(roles.inputs) < 2:
        raise ValueError(
            f"{name} needs a query column and at least one document column; found only the input column(s) "
            f"{roles.inputs} (label column {roles.label!r}). Fix: add the document column to the data, or "
            "point to the file that holds (query, document, label) rows."
        )
    if want == "pair" and (len(roles.inputs) != 2 or found != "pair"):
        raise _shape_error(name, want, roles, found, _pair_fix(roles))
    if want == "list" and found != "list":
        raise _shape_error(name, want, roles, found, "group the rows per query into (query, [documents], [labels]) "
                           "(data: {train: {path: ..., lists: true}} in a crossrank train config).")
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


def check_label_values(values: Any, column: str, value_range: tuple[float, float] | None = None,
                       needed_by: str = "") -> None:
    """Every label is a finite number (inside ``value_range`` when given); else one line naming the row.

    Used by training validation and by every reader of labelled files (``evaluate``, ``mine``).
    """
    for i, value in enumerate(values):
        items = value if isinstance(value, list) else [value]
        for item in items:
            bad = isinstance(item, bool) or not isinstance(item, (int, float))
            if bad or math.isnan(float(item)) or math.isinf(float(item)):
                raise ValueError(
                    f"label column {column!r} row {i} holds {item!r}; labels must be finite numbers. "
                    "Fix: cast with dataset.map or drop the row with dataset.filter."
                )
            if value_range is not None and not value_range[0] <= float(item) <= value_range[1]:
                low, high = value_range
                raise ValueError(
                    f"{needed_by or 'this loss'} needs labels in [{low:g}, {high:g}]; label column {column!r} row "
                    f"{i} holds {item!r}. Fix: rescale the labels (e.g. divide by the largest grade) or use a "
                    "loss for graded scores such as MSELoss."
                )


def _check_order(roles: ColumnRoles) -> None:
    for position, column in enumerate(roles.inputs):
        if position > 0 and column.lower() in QUERY_NAMES and roles.inputs[0].lower() not in QUERY_NAMES:
            order = [column, *[c for c in roles.inputs if c != column]]
            raise ValueError(
                f"column {column!r} looks like the query but is input {position + 1}; inputs are read in column "
                f"order (query first), so the model would learn from swapped pairs. Fix: dataset = "
                f"dataset.select_columns({order + ([roles.label] if roles.label else [])!r})."
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
            check_label_values(dataset[roles.label], roles.label, loss.label_range, type(loss).__name__)
        _check_order(roles)
        want = loss.num_labels
        if model_num_labels is not None and want is not None and model_num_labels != want:
            raise ValueError(
                f"{type(loss).__name__} needs a model with {want} output label(s); this model has "
                f"{model_num_labels}. Fix: load it with CrossEncoder(..., num_labels={want}) or pick another loss."
            )
    except ValueError as err:
        raise ValueError(f"{where}{err}") from None
    return roles

