"""Tests for crossrank.mining: each stage with a fake embedder whose similarities are known exactly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset

from crossrank.data.tables import read_table
from crossrank.mining import MiningConfig, mine, mine_hard_negatives
from crossrank.mining.config import resolve_range_max
from crossrank.mining.eval_samples import load_beir, samples_from_beir, samples_from_pairs
from crossrank.mining.hard_negatives import prepare
from crossrank.mining.stats import summarize
from crossrank.pipeline.mine import mine_from_config

# cosine with q1 (axis 0) or q2 (axis 2); every document is orthogonal to the other query
SCORES_Q1 = {"p1": 0.9, "a": 0.85, "p1b": 0.8, "b": 0.75, "c": 0.5, "d": 0.3}
SCORES_Q2 = {"e": 0.95, "p2": 0.7, "f": 0.6, "g": 0.4}


def _vectors() -> dict[str, np.ndarray]:
    vecs = {"q1": np.array([1.0, 0, 0]), "q2": np.array([0, 0, 1.0])}
    for doc, s in SCORES_Q1.items():
        vecs[doc] = np.array([s, math.sqrt(1 - s * s), 0])
    for doc, s in SCORES_Q2.items():
        vecs[doc] = np.array([0, math.sqrt(1 - s * s), s])
    return vecs


class FakeModel:
    """Sentence-Transformers-style ``encode`` over a fixed text → vector table."""

    def __init__(self, nan_for: str | None = None) -> None:
        self.vectors = _vectors()
        self.nan_for = nan_for

    def encode(self, texts: list[str], **kwargs: object) -> np.ndarray:
        out = np.stack([self.vectors[t] for t in texts]).astype(np.float32)
        if self.nan_for in texts:
            out[texts.index(self.nan_for)] = np.nan
        return out


class FakeCrossEncoder:
    """Scores a pair by a lookup table; counts calls."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table, self.calls = table, 0

    def predict(self, pairs: list[tuple[str, str]], batch_size: int = 32, **kwargs: object) -> np.ndarray:
        self.calls += 1
        return np.array([self.table.get(doc, 0.0) for _, doc in pairs], dtype=np.float32)


CORPUS = ["a", "b", "c", "d", "e", "f", "g"]


def _pairs() -> Dataset:
    return Dataset.from_dict({"query": ["q1", "q2", "q1"], "answer": ["p1", "p2", "p1b"]})


def _mine(**kwargs: object) -> Dataset:
    return mine_hard_negatives(_pairs(), FakeModel(), corpus=CORPUS, verbose=False, **kwargs)


def test_prepare_dedups_in_order() -> None:
    prepared = prepare(["q1", "q2", "q1", "q1"], ["p1", "p2", "p1b", "p1"], ["a", "p2", "a"])
    assert prepared.queries == ["q1", "q2"]
    assert prepared.corpus == ["a", "p2", "p1", "p1b"]
    assert prepared.positive_ids == [[2, 3], [1]]
    assert (prepared.max_positives, prepared.n_rows) == (3, 4)


def test_range_max_auto_rule() -> None:
    assert resolve_range_max(MiningConfig(num_negatives=3, range_min=2), max_positives=2) == 7
    assert resolve_range_max(MiningConfig(num_negatives=3, max_score=0.9), max_positives=1) == 31
    assert resolve_range_max(MiningConfig(num_negatives=3, min_score=0.1), max_positives=1) == 4
    assert resolve_range_max(MiningConfig(num_negatives=3, min_score=0.1), max_positives=1, rescoring=True) == 31


def test_triplet_top() -> None:
    out = _mine(num_negatives=2)
    assert out.column_names == ["query", "answer", "negative"]
    assert list(zip(out["query"], out["answer"], out["negative"])) == [
        ("q1", "p1", "a"), ("q1", "p1", "b"), ("q1", "p1b", "a"), ("q1", "p1b", "b"),
        ("q2", "p2", "e"), ("q2", "p2", "f"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "q1", "q2"),
    [
        ({"absolute_margin": 0.0}, ["b", "c"], ["f", "g"]),
        ({"relative_margin": 0.1}, ["c", "d"], ["f", "g"]),
        ({"max_score": 0.8}, ["b", "c"], ["f", "g"]),
        ({"range_min": 1}, ["b", "c"], ["f", "g"]),
    ],
)
def test_filters_use_hardest_positive(kwargs: dict, q1: list[str], q2: list[str]) -> None:
    out = _mine(num_negatives=2, output_format="n-tuple", **kwargs)
    assert [out["negative_1"][0], out["negative_2"][0]] == q1
    assert [out["negative_1"][2], out["negative_2"][2]] == q2


def test_min_score_leaves_short_rows() -> None:
    tuples = _mine(num_negatives=3, min_score=0.45, output_format="n-tuple")
    assert tuples["answer"] == ["p1", "p1b"]  # q2 has only e and f above 0.45
    triplets = _mine(num_negatives=3, min_score=0.45)
    assert [n for q, n in zip(triplets["query"], triplets["negative"]) if q == "q2"] == ["e", "f"]


def test_labeled_pair_and_scores() -> None:
    out = _mine(num_negatives=2, output_format="labeled-pair")
    assert out.column_names == ["query", "answer", "label"]
    assert list(zip(out["query"], out["answer"], out["label"])) == [
        ("q1", "p1", 1), ("q1", "p1b", 1), ("q1", "a", 0), ("q1", "b", 0),
        ("q2", "p2", 1), ("q2", "e", 0), ("q2", "f", 0),
    ]
    scored = _mine(num_negatives=2, output_format="labeled-pair", output_scores=True)
    assert scored.column_names == ["query", "answer", "score"]
    assert scored["score"] == pytest.approx([0.9, 0.8, 0.85, 0.75, 0.7, 0.95, 0.6], abs=1e-6)


def test_labeled_list_and_triplet_scores() -> None:
    out = _mine(num_negatives=2, output_format="labeled-list", max_score=0.8)
    assert out.to_dict() == {
        "query": ["q1", "q1", "q2"],
        "answer": [["p1", "b", "c"], ["p1b", "b", "c"], ["p2", "f", "g"]],
        "labels": [[1, 0, 0], [1, 0, 0], [1, 0, 0]],
    }
    triplets = _mine(num_negatives=1, output_scores=True)
    assert triplets.column_names == ["query", "answer", "negative", "scores"]
    assert np.allclose(triplets["scores"], [[0.9, 0.85], [0.8, 0.85], [0.7, 0.95]], atol=1e-6)


def test_include_positives_forces_ntuple() -> None:
    out = _mine(num_negatives=3, include_positives=True, output_format="triplet")
    assert out.column_names == ["query", "answer", "negative_1", "negative_2", "negative_3"]
    assert [out[f"negative_{i}"][0] for i in (1, 2, 3)] == ["p1", "a", "p1b"]


def test_random_sampling_is_seeded_and_sorted() -> None:
    first = _mine(num_negatives=2, sampling_strategy="random", range_max=6, seed=3, output_format="n-tuple")
    again = _mine(num_negatives=2, sampling_strategy="random", range_max=6, seed=3, output_format="n-tuple")
    assert first.to_dict() == again.to_dict()
    vecs = _vectors()
    for row in first:
        own = {"q1": {"p1", "p1b"}, "q2": {"p2"}}[row["query"]]
        assert not {row["negative_1"], row["negative_2"]} & own
        q = vecs[row["query"]]
        assert q @ vecs[row["negative_1"]] >= q @ vecs[row["negative_2"]]


def test_cross_encoder_rescoring() -> None:
    ce = FakeCrossEncoder({"p1": 5.0, "p1b": 4.0, "p2": 5.0, "d": 3.0, "c": 4.5, "g": 1.0})
    out = mine_hard_negatives(_pairs(), FakeModel(), corpus=CORPUS, cross_encoder=ce, num_negatives=1,
                              max_score=4.2, output_format="n-tuple", verbose=False)
    assert ce.calls == 1
    # c (4.5) exceeds max_score after rescoring; for q2, q1's positive p1b (4.0) is the best negative
    assert out["negative_1"] == ["d", "d", "p1b"]
    unused = FakeCrossEncoder({})
    mine_hard_negatives(_pairs(), FakeModel(), corpus=CORPUS, cross_encoder=unused, verbose=False)
    assert unused.calls == 0


def test_stats_and_report() -> None:
    result = mine(_pairs(), FakeModel(), MiningConfig(num_negatives=3, max_score=0.8, verbose=False), corpus=CORPUS)
    stats = result.stats
    assert stats.positive["count"] == 3
    assert stats.positive["mean"] == pytest.approx(0.8, abs=1e-6)
    assert stats.skipped["max_score"][0] == 2  # a for q1, e for q2
    text = stats.render()
    assert "max_score=0.8 removed 2 candidates" in text
    assert text.splitlines()[0].split() == ["Metric", "Positive", "Negative", "Difference"]


def test_summarize_exact() -> None:
    s = summarize([4.0, 1.0, 3.0, 2.0])
    assert (s["count"], s["mean"], s["median"], s["min"], s["max"]) == (4, 2.5, 2.0, 1.0, 4.0)
    assert (s["25%"], s["50%"], s["75%"]) == (1.75, 2.5, 3.25)
    assert s["std"] == pytest.approx(1.2909944, abs=1e-7)
    assert math.isnan(summarize([])["mean"])


@pytest.mark.parametrize(
    ("dataset", "kwargs", "message"),
    [
        (Dataset.from_dict({"query": [], "answer": []}), {},
         "The dataset is empty: mining needs at least one (anchor, positive) row."),
        (None, {"num_negatives": 5, "range_max": 3},
         "num_negatives=5 does not fit the window: only 3 candidates remain after skipping range_min=0 of "
         "range_max=3. Lower num_negatives or range_min, or raise range_max."),
        (None, {"output_format": "quad"},
         "Unknown output_format 'quad'; expected one of triplet, n-tuple, labeled-pair, labeled-list."),
        (None, {"sampling_strategy": "best"}, "Unknown sampling_strategy 'best'; expected 'top' or 'random'."),
        (None, {"num_negatives": 0}, "num_negatives must be at least 1, got num_negatives=0."),
        (None, {"anchor_column_name": "question"},
         "anchor_column_name='question' is not a dataset column; found ['query', 'answer']. "
         "Pass one of those as anchor_column_name."),
    ],
)
def test_bad_input_messages(dataset: Dataset | None, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        mine_hard_negatives(dataset if dataset is not None else _pairs(), FakeModel(), corpus=CORPUS,
                            verbose=False, **kwargs)
    assert str(err.value) == message


def test_all_duplicate_corpus() -> None:
    data = Dataset.from_dict({"query": ["q1", "q2"], "answer": ["p1", "p1"]})
    with pytest.raises(ValueError, match="holds 1 distinct text after de-duplication"):
        mine_hard_negatives(data, FakeModel(), corpus=["p1", "p1"], verbose=False)


def test_corpus_smaller_than_k_pads() -> None:
    data = Dataset.from_dict({"query": ["q1"], "answer": ["p1"]})
    out = mine_hard_negatives(data, FakeModel(), corpus=["a", "b"], num_negatives=3, verbose=False)
    assert out["negative"] == ["a", "b"]  # two real candidates; the padded slot is dropped


def test_nan_embeddings() -> None:
    with pytest.raises(ValueError, match=r"1 corpus embedding\(s\) contain NaN or inf \(e.g. 'c'\)"):
        mine_hard_negatives(_pairs(), FakeModel(nan_for="c"), corpus=CORPUS, verbose=False)


def test_deprecated_aliases() -> None:
    assert _mine(num_negatives=2, as_triplets=False).column_names[2:] == ["negative_1", "negative_2"]
    assert _mine(num_negatives=2, margin=0.0, output_format="n-tuple")["negative_1"][0] == "b"


def test_faiss_path_matches_exact() -> None:
    pytest.importorskip("faiss")
    assert _mine(num_negatives=2, use_faiss=True).to_dict() == _mine(num_negatives=2).to_dict()


def test_mine_from_config(tiny_bert: Path) -> None:
    with pytest.raises(ValueError, match=r"Unknown mining option\(s\) \['negatives'\]"):
        mine_from_config({"model": str(tiny_bert), "negatives": 3}, _pairs())
    with pytest.raises(ValueError, match="needs a 'model' key"):
        mine_from_config({}, _pairs())
    data = Dataset.from_dict({"q": ["the cat", "a dog"], "a": ["cat food", "dog food"]})
    out = mine_from_config({"model": str(tiny_bert), "num_negatives": 1, "corpus": ["the moon", "the sun"],
                            "output_format": "labeled-pair", "verbose": False}, data)
    assert out.column_names == ["q", "a", "label"]
    assert out["label"].count(1) == 2 and len(out) == 4


def test_samples_from_pairs(tiny_bert: Path) -> None:
    samples = samples_from_pairs(["the cat", "a dog", "the cat"], ["cat", "dog", "kitten"], str(tiny_bert),
                                 corpus=["moon"], top_k=2)
    assert [s["query"] for s in samples] == ["the cat", "a dog"]
    assert samples[0]["positive"] == ["cat", "kitten"]
    assert all(len(s["documents"]) == 2 and set(s["documents"]) <= {"moon", "cat", "dog", "kitten"}
               for s in samples)


def test_beir_folder(tiny_bert: Path, tmp_path: Path) -> None:
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    docs = [{"_id": "d1", "title": "Cat", "text": "a cat"}, {"_id": "d2", "title": "", "text": "a dog"},
            {"_id": "d3", "title": "Sun", "text": "the sun"}]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "1", "text": "what is a cat"}) + "\n"
                                          + json.dumps({"_id": "2", "text": "no judgements"}))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n1\td3\t0\n")
    corpus, queries, qrels = load_beir(folder)
    assert corpus["d1"] == "Cat a cat" and corpus["d2"] == "a dog"
    assert qrels == {"1": {"d1"}}
    samples = samples_from_beir(folder, str(tiny_bert), top_k=5)
    assert samples == [{"query": "what is a cat", "positive": ["Cat a cat"],
                        "documents": samples[0]["documents"]}]
    assert sorted(samples[0]["documents"]) == ["Cat a cat", "Sun the sun", "a dog"]


def test_read_table_formats(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("q,a\nhello,world\n")
    assert read_table(tmp_path / "x.csv") == {"q": ["hello"], "a": ["world"]}
    with pytest.raises(ValueError, match="Unsupported file type 'x.txt'"):
        (tmp_path / "x.txt").write_text("x")
        read_table(tmp_path / "x.txt")
