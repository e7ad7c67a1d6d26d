"""Batch samplers: which rows go into each training batch, and in which order.

Every sampler yields lists of row indices, is reshuffled each epoch from ``seed + epoch`` (never from
the global random state, so every DDP process builds the same batches and ``accelerate`` hands each
process its share), and exposes ``batch_size``/``drop_last`` for that sharding.

- ``ShuffledBatchSampler`` (``batch_sampler``): a random permutation cut into batches.
- ``NoDuplicatesBatchSampler`` (``no_duplicates``): no text value appears twice in a batch, so a row's
  in-batch negatives are never copies of its own positive.
- ``GroupByLabelBatchSampler`` (``group_by_label``): each batch holds rows of a single label value.
- ``MultiDatasetBatchSampler``: several datasets, each batch from one of them, in ``round_robin`` or
  ``proportional`` order (see ``MultiDataset`` for the index space).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch

from crossrank.data.collator import DATASET_KEY


class RowBatchSampler:
    """Base class: ``num_rows`` rows in batches of ``batch_size``, reshuffled per epoch from ``seed``."""

    def __init__(self, num_rows: int, batch_size: int, drop_last: bool = False, seed: int = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; found {batch_size}.")
        self.num_rows = num_rows
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed + self.epoch)

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_rows // self.batch_size
        return math.ceil(self.num_rows / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def batches(self) -> list[list[int]]:
        raise NotImplementedError

    def _cut(self, order: list[int]) -> list[list[int]]:
        cut = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.drop_last and cut and len(cut[-1]) < self.batch_size:
            cut.pop()
        return cut


class ShuffledBatchSampler(RowBatchSampler):
    """A fresh random permutation of the rows each epoch, cut into batches."""

    def batches(self) -> list[list[int]]:
        return self._cut(torch.randperm(self.num_rows, generator=self.generator()).tolist())


class NoDuplicatesBatchSampler(RowBatchSampler):
    """Batches in which no text value (query or document) occurs in two rows.

    Rows are visited in a random order; a row joins the open batch unless one of its texts is already
    in it, in which case it waits for a later batch. When no waiting row fits the open batch, that batch
    is closed short (or dropped with ``drop_last``). ``len()`` is an upper bound, as batches can be short.

    Args:
        texts: for each row, its text values (list-valued columns flattened).
    """

    def __init__(self, texts: Sequence[frozenset[str]], batch_size: int, drop_last: bool = False,
                 seed: int = 0) -> None:
        super().__init__(len(texts), batch_size, drop_last, seed)
        self.texts = list(texts)

    def batches(self) -> list[list[int]]:
        order = torch.randperm(self.num_rows, generator=self.generator()).tolist()
        out: list[list[int]] = []
        batch: list[int] = []
        seen: set[str] = set()
        while order:
            waiting, grew = [], False
            for index in order:
                if seen.isdisjoint(self.texts[index]):
                    batch.append(index)
                    seen.update(self.texts[index])
                    grew = True
                    if len(batch) == self.batch_size:
                        out.append(batch)
                        batch, seen = [], set()
                else:
                    waiting.append(index)
            order = waiting
            if order and not grew:  # nothing left fits the open batch: close it short
                if not self.drop_last:
                    out.append(batch)
                batch, seen = [], set()
        if batch and not self.drop_last:
            out.append(batch)
        return out


class GroupByLabelBatchSampler(RowBatchSampler):
    """Batches that each hold rows of one label value; the order of the batches is shuffled.

    Each label's rows are shuffled and cut into batches (its last, short batch dropped with
    ``drop_last``); then all labels' batches are interleaved in a random order.

    Args:
        labels: the label of each row (a number or a string; list-valued labels cannot be grouped).
    """

    def __init__(self, labels: Sequence[Any], batch_size: int, drop_last: bool = False, seed: int = 0) -> None:
        super().__init__(len(labels), batch_size, drop_last, seed)
        groups: dict[Any, list[int]] = {}
        for index, label in enumerate(labels):
            if isinstance(label, (list, tuple)):
                raise ValueError(
                    f"group_by_label needs one label value per row; row {index} holds the list {label!r}. "
                    "Fix: use batch_sampler='batch_sampler' for listwise data."
                )
            groups.setdefault(label, []).append(index)
        self.groups = [groups[key] for key in sorted(groups, key=repr)]

    def __len__(self) -> int:
        if self.drop_last:
            return sum(len(g) // self.batch_size for g in self.groups)
        return sum(math.ceil(len(g) / self.batch_size) for g in self.groups)

    def batches(self) -> list[list[int]]:
        generator = self.generator()
        out: list[list[int]] = []
        for group in self.groups:
            order = torch.randperm(len(group), generator=generator).tolist()
            out.extend(self._cut([group[i] for i in order]))
        return [out[i] for i in torch.randperm(len(out), generator=generator).tolist()]


class MultiDatasetBatchSampler:
    """Batches of several datasets, each batch from one dataset, indices offset into ``MultiDataset``.

    Args:
        samplers: one batch sampler per dataset, in the order of ``MultiDataset``.
        offsets: where each dataset's rows start in the concatenated index space.
        order: ``round_robin`` (one batch of each dataset in turn, stopping when one runs out) or
            ``proportional`` (every batch of every dataset, interleaved at random, so each dataset is
            drawn in proportion to its size).
    """

    def __init__(self, samplers: Sequence[RowBatchSampler], offsets: Sequence[int], order: str,
                 seed: int = 0) -> None:
        if order not in ("round_robin", "proportional"):
            raise ValueError(f"order must be 'round_robin' or 'proportional'; found {order!r}.")
        self.samplers = list(samplers)
        self.offsets = list(offsets)
        self.order = order
        self.seed = seed
        self.epoch = 0
        self.batch_size = samplers[0].batch_size
        self.drop_last = all(s.drop_last for s in samplers)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        for sampler in self.samplers:
            sampler.set_epoch(epoch)

    def __len__(self) -> int:
        if self.order == "round_robin":
            return len(self.samplers) * min(len(s) for s in self.samplers)
        return sum(len(s) for s in self.samplers)

    def _schedule(self, lengths: list[int]) -> list[int]:
        if self.order == "round_robin":
            return list(range(len(lengths))) * min(lengths)
        schedule = [d for d, n in enumerate(lengths) for _ in range(n)]
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return [schedule[i] for i in torch.randperm(len(schedule), generator=generator).tolist()]

    def __iter__(self) -> Iterator[list[int]]:
        per_dataset = [s.batches() for s in self.samplers]
        cursors = [0] * len(per_dataset)
        for d in self._schedule([len(b) for b in per_dataset]):
            batch = per_dataset[d][cursors[d]]
            cursors[d] += 1
            yield [self.offsets[d] + i for i in batch]


class TaggedDataset(torch.utils.data.Dataset):
    """A dataset whose rows carry the dataset's name under ``DATASET_KEY`` (for the collator)."""

    def __init__(self, dataset: Any, name: str) -> None:
        self.dataset = dataset
        self.name = name

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {**self.dataset[int(index)], DATASET_KEY: self.name}


class MultiDataset(torch.utils.data.Dataset):
    """Several named datasets behind one index space (dataset after dataset); rows are tagged."""

    def __init__(self, datasets: Mapping[str, Any]) -> None:
        self.names = list(datasets)
        self.datasets = [datasets[name] for name in self.names]
        self.offsets: list[int] = []
        total = 0
        for dataset in self.datasets:
            self.offsets.append(total)
            total += len(dataset)
        self.total = total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: int) -> dict[str, Any]:
        d = bisect.bisect_right(self.offsets, int(index)) - 1
        return {**self.datasets[d][int(index) - self.offsets[d]], DATASET_KEY: self.names[d]}


def row_texts(dataset: Any, input_columns: Sequence[str]) -> list[frozenset[str]]:
    """Each row's text values over ``input_columns`` (list-valued cells flattened)."""
    columns = [dataset[c] for c in input_columns]
    texts = []
    for values in zip(*columns):
        flat: set[str] = set()
        for value in values:
            flat.update(value if isinstance(value, list) else [value])
        texts.append(frozenset(flat))
    return texts


def make_batch_sampler(kind: str, dataset: Any, batch_size: int, drop_last: bool, seed: int) -> RowBatchSampler:
    """The sampler named by ``TrainingArguments.batch_sampler`` for one (Hugging Face) dataset."""
    from crossrank.data.columns import resolve_columns

    roles = resolve_columns(list(dataset.column_names))
    if kind == "no_duplicates":
        return NoDuplicatesBatchSampler(row_texts(dataset, roles.inputs), batch_size, drop_last, seed)
    if kind == "group_by_label":
        if roles.label is None:
            raise ValueError(
                f"batch_sampler='group_by_label' needs a label column (label, labels, score or scores); found "
                f"columns {roles.inputs}. Fix: add a label column or use batch_sampler='batch_sampler'."
            )
        return GroupByLabelBatchSampler(dataset[roles.label], batch_size, drop_last, seed)
    if kind != "batch_sampler":
        raise ValueError(f"batch_sampler must be 'batch_sampler', 'no_duplicates' or 'group_by_label'; found {kind!r}.")
    return ShuffledBatchSampler(len(dataset), batch_size, drop_last, seed)
