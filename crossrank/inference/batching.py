"""The one batch planner and the one padding routine of every scoring path.

Inputs are sorted longest first and cut into batches; a batch holds at most ``batch_size`` rows, and with a
token budget at most ``max_tokens`` padded tokens (long inputs run in small batches, short ones in large
batches, up to ``max_rows``). With a per-batch overhead the cuts are placed where padding plus overhead is
least (the server's small, mixed pools). Padding is right-padding into int64 arrays, one per feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def length_order(lengths: Sequence[int] | np.ndarray, longest_first: bool = True) -> np.ndarray:
    """Positions sorted by length (longest first by default), stable: the order every batch plan cuts."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.argsort(-lengths if longest_first else lengths, kind="stable")


def plan_batches(lengths: Sequence[int] | np.ndarray, batch_size: int, max_tokens: int | None = None,
                 max_rows: int | None = None, longest_first: bool = True,
                 batch_overhead: int | None = None) -> list[np.ndarray]:
    """Positions into ``lengths`` grouped into length-sorted batches (longest first by default).

    Args:
        lengths: tokens of each input.
        batch_size: rows per batch when ``max_tokens`` is None.
        max_tokens: padded-token budget per batch (``rows * longest``); a batch always holds one row.
        max_rows: the most rows of a budgeted batch (default ``batch_size``).
        longest_first: sort descending (a budgeted plan's first batch is then its largest, so memory peaks
            at once); ``False`` sorts ascending (stable in both cases).
        batch_overhead: the cost of one more forward pass, in padded tokens. When given, the batches are
            still contiguous runs of the sorted order under the same caps, but cut where the total of padded
            tokens plus this overhead per batch is least (:func:`least_padding_cuts`): a small pool of
            mixed lengths runs in more, tighter batches instead of a few padded to their longest row.

    Returns:
        int64 index arrays covering every position exactly once.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; found {batch_size}.")
    lengths = np.asarray(lengths, dtype=np.int64)
    order = length_order(lengths, longest_first)
    if max_tokens is not None and max_tokens < 1:
        raise ValueError(f"max_tokens must be a positive integer; found {max_tokens}.")
    if batch_overhead is not None:
        rows = batch_size if max_tokens is None else (max_rows if max_rows is not None else batch_size)
        cuts = least_padding_cuts(lengths[order], rows, max_tokens, batch_overhead)
        return [order[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    if max_tokens is None:
        return [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    cap = max_rows if max_rows is not None else batch_size
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        width = max(int(lengths[order[start]]), 1)
        size = max(1, min(max_tokens // width, cap))
        batches.append(order[start : start + size])
        start += size
    return batches


def least_padding_cuts(widths: np.ndarray, max_rows: int, max_tokens: int | None, overhead: int) -> list[int]:
    """Cut points ``[0, ..., n]`` of length-sorted ``widths`` into runs of at most ``max_rows`` rows (and
    ``max_tokens`` padded tokens) with the least ``padded tokens + overhead x batches`` (dynamic programme).

    A run is padded to its widest row, which is its first (descending order) or last (ascending).
    """
    n = len(widths)
    widths = np.maximum(np.asarray(widths, dtype=np.int64), 1)
    descending = n < 2 or widths[0] >= widths[-1]
    best = np.zeros(n + 1, dtype=np.float64)
    start = np.zeros(n + 1, dtype=np.int64)
    for end in range(1, n + 1):
        first = np.arange(max(0, end - max_rows), end)
        rows = end - first
        pad = widths[first] if descending else np.full(len(first), widths[end - 1])
        cost = best[first] + rows * pad + overhead
        if max_tokens is not None:
            cost = np.where((rows * pad <= max_tokens) | (rows == 1), cost, np.inf)
        k = int(np.argmin(cost))
        best[end], start[end] = cost[k], first[k]
    cuts = [n]
    while cuts[-1] > 0:
        cuts.append(int(start[cuts[-1]]))
    return cuts[::-1]


def pad_batch(features: Mapping[str, Sequence[Sequence[int]]], idx: Sequence[int] | np.ndarray,
              pad_id: int, with_mask: bool = False) -> dict[str, np.ndarray]:
    """Right-pad the token lists ``features[key][i]`` for ``i`` in ``idx`` into int64 arrays.

    ``input_ids`` are padded with ``pad_id``, every other feature (attention mask, token types) with 0.
    With ``with_mask`` and no ``attention_mask`` among the features, one is built (1 on real tokens).
    """
    ids = features["input_ids"]
    width = max((len(ids[i]) for i in idx), default=0)
    batch: dict[str, np.ndarray] = {}
    for key, values in features.items():
        arr = np.full((len(idx), width), pad_id if key == "input_ids" else 0, dtype=np.int64)
        for row, i in enumerate(idx):
            seq = values[i]
            arr[row, : len(seq)] = seq
        batch[key] = arr
    if with_mask and "attention_mask" not in batch:
        lengths = np.fromiter((len(ids[i]) for i in idx), dtype=np.int64, count=len(idx))
        batch["attention_mask"] = (np.arange(width)[None, :] < lengths[:, None]).astype(np.int64)
    return batch
