"""fit's rerank depth, chosen on dev from one scoring at the plan's depth."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from crossrank.fit.depth import choose_rerank_depth, summary


class _Scores:
    """A stand-in reranker: a fixed logit per document text (the function under test only calls ``logits``)."""

    def __init__(self, by_text: dict[str, float]) -> None:
        self.by_text = by_text

    def logits(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32, show_progress_bar: bool = False):
        return np.array([[self.by_text[d]] for _, d in pairs], dtype=np.float32)


def _choice(distractor: float) -> dict:
    docs = {f"d{i}": f"text {i}" for i in range(60)}
    collection = {"queries": {"q": "query"}, "corpus": docs, "qrels": {"q": {"d15": 1}}}
    run = {"q": {f"d{i}": 100.0 - i for i in range(60)}}  # d0 first ... d59 last; only d15 (rank 16) relevant
    # the reranker lifts d15, and also the irrelevant d40 (rank 41) by ``distractor``
    logits = {text: 0.0 for text in docs.values()} | {"text 15": 5.0, "text 40": distractor}
    return choose_rerank_depth(_Scores(logits), collection, ["q"], run, 50, (100, 50, 30, 20, 10))


def test_the_deepest_depth_with_the_best_fused_dev_metric_wins() -> None:
    far = _choice(50.0)  # no fusion weight puts d15 above d40 at depth 50
    assert list(far["by_depth"]) == ["50", "30", "20", "10"]
    assert {k: v["fused"] for k, v in far["by_depth"].items()} == pytest.approx(
        {"50": 1 / np.log2(3), "30": 1.0, "20": 1.0, "10": 0.0})
    assert far["rerank_k"] == 30 and far["by_depth"]["10"]["first_stage"] == 0.0
    near = _choice(9.0)  # fusion with the first stage (weight 0.65) ranks d15 above d40: depth 50 ties the best
    assert near["rerank_k"] == 50 and near["by_depth"]["50"] == pytest.approx(
        {"weight": 0.65, "fused": 1.0, "reranker": 1 / np.log2(3), "first_stage": 0.0})
    assert summary(far) == ("rerank depth 30 (best fused dev NDCG@10 by depth: top 50 0.6309, top 30 1.0000, "
                            "top 20 1.0000, top 10 0.0000)")
