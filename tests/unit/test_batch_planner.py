"""The one batch planner's least-padding cuts (the server's small, mixed-length rounds)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crossrank.inference.batching import least_padding_cuts, plan_batches


def brute_force(widths: list[int], max_rows: int, max_tokens: int | None, overhead: int) -> float:
    """The least cost over every way to cut the sorted widths into contiguous runs."""
    n, best = len(widths), float("inf")
    for mask in itertools.product((0, 1), repeat=n - 1):
        cuts = [0, *[i + 1 for i, m in enumerate(mask) if m], n]
        runs = [widths[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
        if any(len(r) > max_rows or (max_tokens and len(r) > 1 and len(r) * r[0] > max_tokens) for r in runs):
            continue
        best = min(best, sum(len(r) * r[0] + overhead for r in runs))
    return best


def cost(widths: list[int], cuts: list[int], overhead: int) -> int:
    return sum((b - a) * widths[a] + overhead for a, b in zip(cuts[:-1], cuts[1:]))


@pytest.mark.parametrize("seed", range(6))
def test_least_padding_cuts_are_optimal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    widths = sorted(rng.integers(5, 120, size=11).tolist(), reverse=True)
    for max_rows, max_tokens, overhead in ((4, None, 20), (32, None, 40), (3, 150, 10), (11, None, 0)):
        cuts = least_padding_cuts(np.asarray(widths), max_rows, max_tokens, overhead)
        assert cuts[0] == 0 and cuts[-1] == len(widths) and all(b > a for a, b in zip(cuts[:-1], cuts[1:]))
        assert cost(widths, cuts, overhead) == brute_force(widths, max_rows, max_tokens, overhead)


def test_overhead_plans_cover_every_row_once_under_the_caps() -> None:
    lengths = np.array([40, 41, 39, 100, 12, 13, 60, 61, 62, 10])
    plan = plan_batches(lengths, 4, batch_overhead=20)
    assert [lengths[b].tolist() for b in plan] == [[100], [62, 61, 60], [41, 40, 39], [13, 12, 10]]
    assert sorted(np.concatenate(plan).tolist()) == list(range(10))
    budget = plan_batches(lengths, 32, max_tokens=120, batch_overhead=20)
    assert all(len(b) == 1 or len(b) * lengths[b].max() <= 120 for b in budget)
    # a huge overhead gives the fewest batches the row cap allows; ascending order pads to each run's last
    assert [len(b) for b in plan_batches(lengths, 4, batch_overhead=10**6)] == [4, 3, 3]
    assert [lengths[b].tolist() for b in plan_batches(lengths, 4, batch_overhead=20, longest_first=False)] == [
        [10, 12, 13], [39, 40, 41], [60, 61, 62], [100]]
    assert plan_batches([], 4, batch_overhead=3) == []
