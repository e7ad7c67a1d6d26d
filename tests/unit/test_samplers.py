"""Batch samplers: determinism, no duplicates, one label per batch, multi-dataset order, DDP sharding."""

from __future__ import annotations

import datasets
import pytest
from accelerate.data_loader import BatchSamplerShard

from crossrank.data.collator import DATASET_KEY
from crossrank.training.samplers import (
    GroupByLabelBatchSampler,
    MultiDataset,
    MultiDatasetBatchSampler,
    NoDuplicatesBatchSampler,
    ShuffledBatchSampler,
    TaggedDataset,
    make_batch_sampler,
    row_texts,
)


def test_shuffled_is_deterministic_per_seed_and_epoch() -> None:
    a, b = ShuffledBatchSampler(10, 4, seed=3), ShuffledBatchSampler(10, 4, seed=3)
    assert list(a) == list(b)
    assert sorted(i for batch in a for i in batch) == list(range(10))
    assert [len(x) for x in a] == [4, 4, 2] and len(a) == 3
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    assert list(ShuffledBatchSampler(10, 4, seed=4)) != first


def test_shuffled_drop_last() -> None:
    sampler = ShuffledBatchSampler(10, 4, drop_last=True, seed=0)
    assert [len(x) for x in sampler] == [4, 4] and len(sampler) == 2


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive integer; found 0."):
        ShuffledBatchSampler(3, 0)


def test_no_duplicates_keeps_texts_apart() -> None:
    rows = [{"q": f"q{i % 3}", "d": f"d{i}"} for i in range(12)]  # only 3 distinct queries
    sampler = NoDuplicatesBatchSampler(row_texts(datasets.Dataset.from_list(rows), ["q", "d"]), 3, seed=0)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(12))
    for batch in batches:
        queries = [rows[i]["q"] for i in batch]
        assert len(set(queries)) == len(queries)
    assert [len(b) for b in batches] == [3, 3, 3, 3]


def test_no_duplicates_closes_short_batches_or_drops_them() -> None:
    texts = [frozenset({"same", f"d{i}"}) for i in range(3)]
    assert [len(b) for b in NoDuplicatesBatchSampler(texts, 2, seed=0)] == [1, 1, 1]
    assert list(NoDuplicatesBatchSampler(texts, 2, drop_last=True, seed=0)) == []


def test_row_texts_flattens_lists() -> None:
    data = datasets.Dataset.from_list([{"q": "a", "docs": ["b", "c"]}])
    assert row_texts(data, ["q", "docs"]) == [frozenset({"a", "b", "c"})]


def test_group_by_label_one_label_per_batch() -> None:
    labels = [0, 1, 0, 1, 0, 1, 0, 2]
    sampler = GroupByLabelBatchSampler(labels, 2, seed=0)
    batches = list(sampler)
    assert len(sampler) == len(batches) == 5
    assert sorted(i for b in batches for i in b) == list(range(8))
    assert all(len({labels[i] for i in b}) == 1 for b in batches)
    assert [len(b) for b in GroupByLabelBatchSampler(labels, 2, drop_last=True, seed=0)] == [2, 2, 2]


def test_group_by_label_errors() -> None:
    with pytest.raises(ValueError, match=r"row 0 holds the list \[1, 0\]"):
        GroupByLabelBatchSampler([[1, 0]], 2)
    data = datasets.Dataset.from_list([{"q": "a", "d": "b"}])
    with pytest.raises(ValueError, match=r"batch_sampler='group_by_label' needs a label column .* found columns "
                                         r"\['q', 'd'\]"):
        make_batch_sampler("group_by_label", data, 2, False, 0)
    with pytest.raises(ValueError, match="found 'nope'"):
        make_batch_sampler("nope", data, 2, False, 0)


def test_make_batch_sampler_kinds() -> None:
    data = datasets.Dataset.from_list([{"q": "a", "d": "b", "label": 1}, {"q": "a", "d": "c", "label": 0}])
    assert isinstance(make_batch_sampler("batch_sampler", data, 2, False, 0), ShuffledBatchSampler)
    assert list(make_batch_sampler("no_duplicates", data, 2, False, 0)) == [[0], [1]]
    assert isinstance(make_batch_sampler("group_by_label", data, 2, False, 0), GroupByLabelBatchSampler)


def test_round_robin_alternates_and_stops_at_the_shortest() -> None:
    samplers = [ShuffledBatchSampler(6, 2, seed=0), ShuffledBatchSampler(2, 2, seed=0)]
    multi = MultiDatasetBatchSampler(samplers, [0, 6], "round_robin", seed=0)
    batches = list(multi)
    assert len(multi) == len(batches) == 2
    assert all(i < 6 for i in batches[0]) and sorted(batches[1]) == [6, 7]


def test_proportional_uses_every_batch_in_a_seeded_order() -> None:
    samplers = [ShuffledBatchSampler(6, 2, seed=0), ShuffledBatchSampler(2, 2, seed=0)]
    multi = MultiDatasetBatchSampler(samplers, [0, 6], "proportional", seed=0)
    batches = list(multi)
    assert len(multi) == len(batches) == 4
    assert sorted(i for b in batches for i in b) == list(range(8))
    assert batches == list(MultiDatasetBatchSampler(samplers, [0, 6], "proportional", seed=0))
    with pytest.raises(ValueError, match="order must be 'round_robin' or 'proportional'; found 'x'."):
        MultiDatasetBatchSampler(samplers, [0, 6], "x")


def test_multi_dataset_tags_rows() -> None:
    a = datasets.Dataset.from_list([{"q": "a"}, {"q": "b"}])
    b = datasets.Dataset.from_list([{"x": "c"}])
    multi = MultiDataset({"first": a, "second": b})
    assert len(multi) == 3 and multi.offsets == [0, 2]
    assert multi[1] == {"q": "b", DATASET_KEY: "first"}
    assert multi[2] == {"x": "c", DATASET_KEY: "second"}
    assert TaggedDataset(b, "second")[0] == {"x": "c", DATASET_KEY: "second"}


def test_ddp_shards_are_disjoint_and_cover_the_batches() -> None:
    sampler = ShuffledBatchSampler(17, 2, drop_last=True, seed=5)
    shards = [list(BatchSamplerShard(sampler, num_processes=2, process_index=r)) for r in range(2)]
    full = list(sampler)
    assert len(shards[0]) == len(shards[1]) == 4
    assert [b for pair in zip(*shards) for b in pair] == full
