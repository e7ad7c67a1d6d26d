"""BEIR-style evaluation: first-stage retrieval (BM25 or an embedder), rerank the top ``rerank_k``.

A generalisation of the reference's NanoBEIR reranking evaluator to any BEIR-format folder
(``corpus.jsonl[.gz]``, ``queries.jsonl``, a qrels TSV). Keys per dataset are ``{Dataset}_R{k}_{metric}``
and the aggregate over datasets is ``{name}_R{k}_{aggregate_key}_{metric}``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from crossrank.data.beir import BEIRData, check_qrels, load_beir_folder, read_qrels
from crossrank.evaluation._csv import append_csv_row
from crossrank.evaluation._pairs import activate, logits_all, predict_all
from crossrank.evaluation._table import format_table
from crossrank.evaluation.base import Evaluator, epoch_text
from crossrank.evaluation.reranking import (
    NdcgGains,
    RankingList,
    RerankingEvaluator,
    first_stage_metrics,
)
from crossrank.inference.protocols import PairScorer, TextEncoder
from crossrank.mining.search import search

logger = logging.getLogger(__name__)

# one query's first-stage result: doc ids best first, or {doc id: score} (ranked by score, scores kept for fusion)
Ranking = Sequence[str] | Mapping[str, float]
Run = Mapping[str, Ranking]
"""A first-stage run of one dataset: query id -> its ranking."""
Retriever = Literal["bm25"] | TextEncoder | Mapping[str, Run]
"""``"bm25"``, an embedder (``encode(texts)``), or a precomputed run per dataset name."""

__all__ = ["BEIRData", "BEIREvaluator", "Retriever", "Run", "bm25_search", "build_lists", "check_qrels",
           "dense_search", "load_beir_folder", "read_qrels"]


def bm25_search(data: BEIRData, query_ids: Sequence[str], k: int) -> dict[str, dict[str, float]]:
    """Top-``k`` ``{document id: BM25 score}`` per query, best first (``bm25s``, English stopwords)."""
    try:
        import bm25s
    except ImportError as err:
        raise ImportError(
            "BM25 first-stage retrieval needs the bm25s package: pip install 'crossrank[bm25]' (or bm25s)."
        ) from err
    doc_ids = list(data.corpus)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([data.corpus[d] for d in doc_ids], stopwords="en", show_progress=False),
                    show_progress=False)
    tokens = bm25s.tokenize([data.queries[q] for q in query_ids], stopwords="en", show_progress=False)
    found, scores = retriever.retrieve(tokens, k=min(k, len(doc_ids)), show_progress=False)
    return {q: {doc_ids[i]: float(s) for i, s in zip(row, values)}
            for q, row, values in zip(query_ids, np.asarray(found), np.asarray(scores))}


def dense_search(
    data: BEIRData, query_ids: Sequence[str], k: int, embedder: TextEncoder, chunk: int | None = None
) -> dict[str, dict[str, float]]:
    """Top-``k`` ``{document id: dot product}`` per query, best first (``mining.search``, exact and chunked)."""
    doc_ids = list(data.corpus)
    docs = np.asarray(embedder.encode([data.corpus[d] for d in doc_ids]), dtype=np.float32)
    queries = np.asarray(embedder.encode([data.queries[q] for q in query_ids]), dtype=np.float32)
    scores, indices = search(queries, docs, min(k, len(doc_ids)), chunk_size=chunk)
    return {query_id: {doc_ids[i]: s for i, s in zip(row, values) if i >= 0}
            for query_id, row, values in zip(query_ids, indices.tolist(), scores.tolist())}


def _ranked(ranking: Ranking, rerank_k: int) -> tuple[list[str], list[float] | None]:
    """The top ``rerank_k`` ids of one query's first-stage result and their scores (None without scores)."""
    if isinstance(ranking, Mapping):
        ordered = sorted(ranking.items(), key=lambda item: -float(item[1]))[:rerank_k]
        return [d for d, _ in ordered], [float(v) for _, v in ordered]
    return list(ranking)[:rerank_k], None


def build_lists(
    data: BEIRData, run: Mapping[str, Ranking], rerank_k: int, at_k: int, always_rerank_positives: bool,
    ndcg_gains: NdcgGains,
) -> list[RankingList]:
    """One :class:`RankingList` per judged query with a positive: first-stage top ``rerank_k`` plus grades.

    First-stage scores (a run of ``{doc id: score}``) are attached for score fusion only when
    ``always_rerank_positives`` is False: a relevant document the first stage missed has no score of its own.
    """
    lists = []
    for query_id, judged in data.qrels.items():
        positives = [d for d, grade in judged.items() if grade > 0]
        if not positives:
            continue
        if query_id not in run:
            raise ValueError(f"{data.name}: the first-stage run has no ranking for query {query_id!r}.")
        ranked, first_scores = _ranked(run[query_id], rerank_k)
        ranked_set = set(ranked)
        grade = {d: max(g, 0.0) for d, g in judged.items()}
        ranked_gains = [grade.get(d, 0.0) for d in ranked]
        missing = [grade[d] for d in positives if d not in ranked_set]
        base = first_stage_metrics(ranked_gains, missing, at_k, ndcg_gains)
        positive_set = set(positives)
        doc_ids = positives + [d for d in ranked if d not in positive_set] if always_rerank_positives else ranked
        lists.append(
            RankingList(
                data.queries[query_id], [data.corpus[d] for d in doc_ids], [grade.get(d, 0.0) for d in doc_ids],
                base, len(positives), None if always_rerank_positives else first_scores,
            )
        )
    return lists


class BEIREvaluator(Evaluator):
    """Rerank a first-stage retrieval on BEIR-format datasets and report base vs reranked metrics.

    Inputs:

    ======================  ==================================================================
    argument                meaning
    ======================  ==================================================================
    ``datasets``            BEIR folders (paths) or :class:`BEIRData` objects
    ``retriever``           ``"bm25"`` (default, needs ``bm25s``), an object with
                            ``encode(texts) -> array`` (e.g. :class:`crossrank.embedder.Embedder`),
                            or a precomputed run ``{dataset name: {query id: [doc ids]}}``
    ``rerank_k``            how many first-stage documents to rerank
    ``ndcg_gains``          ``"binary"`` (reference) or ``"graded"`` (qrels grades are gains)
    ======================  ==================================================================

    Per dataset: ``{Dataset}_R{rerank_k}_map``, ``_mrr@{at_k}``, ``_ndcg@{at_k}`` and their ``base_*``
    (first-stage order). Aggregated: ``{name}_R{rerank_k}_{aggregate_key}_*``; primary metric
    ``{name}_R{rerank_k}_mean_ndcg@{at_k}``. Judged queries without a relevant document are skipped (the
    count is logged). All datasets are scored in one ``model.predict`` call. When the lists carry first-stage
    scores (``always_rerank_positives=False``) and the model stores a fusion (``model.fusion``, chosen with
    :meth:`tune_fusion` on a development split), ``fused_*`` keys report the blend of both scores.

    Example:
        >>> data = BEIRData("Toy", {"d1": "paris is in france", "d2": "cats"}, {"q1": "france"}, {"q1": {"d1": 1}})
        >>> evaluator = BEIREvaluator([data], retriever={"Toy": {"q1": ["d2", "d1"]}})
        >>> evaluator.primary_metric
        'BEIR_R100_mean_ndcg@10'
    """

    def __init__(
        self,
        datasets: Sequence[str | os.PathLike[str] | BEIRData],
        retriever: Retriever = "bm25",
        rerank_k: int = 100,
        at_k: int = 10,
        always_rerank_positives: bool = True,
        ndcg_gains: NdcgGains = "binary",
        split: str = "test",
        name: str = "BEIR",
        batch_size: int = 32,
        show_progress_bar: bool = False,
        write_csv: bool = True,
        aggregate_fn: Callable[[list[float]], float] = np.mean,
        aggregate_key: str = "mean",
    ) -> None:
        """Load the datasets and run the first stage once (the model is not called here).

        Args:
            datasets: Folders or :class:`BEIRData` objects.
            retriever: ``"bm25"``, an embedder with ``encode``, or a precomputed run per dataset name.
            rerank_k: First-stage depth to rerank.
            at_k: Cut-off for MRR and NDCG.
            always_rerank_positives: Also score relevant documents that the first stage missed.
            ndcg_gains: ``"binary"`` or ``"graded"``.
            split: Qrels split to read from folders.
            name: Prefix of the aggregate keys.
            batch_size: Batch size of the scoring call.
            show_progress_bar: Progress bar while scoring.
            write_csv: Append CSV rows under ``output_path``.
            aggregate_fn: Combines the per-dataset values.
            aggregate_key: Names the aggregate in keys.
        """
        if not datasets:
            raise ValueError("BEIREvaluator needs at least one dataset; got none. Pass BEIR folders or BEIRData.")
        if ndcg_gains not in ("binary", "graded"):
            raise ValueError(f"ndcg_gains must be 'binary' or 'graded'; got {ndcg_gains!r}.")
        self.rerank_k, self.at_k, self.ndcg_gains = rerank_k, at_k, ndcg_gains
        self.always_rerank_positives = always_rerank_positives
        self.batch_size, self.show_progress_bar, self.write_csv = batch_size, show_progress_bar, write_csv
        self.aggregate_fn, self.aggregate_key = aggregate_fn, aggregate_key
        self.name = f"{name}_R{rerank_k:d}_{aggregate_key}"
        self.primary_metric = self.prefixed(f"ndcg@{at_k}")
        self.greater_is_better = True
        self.csv_file = f"BEIREvaluator_{name}_{aggregate_key}_results_@{at_k}.csv"
        self.datasets = [d if isinstance(d, BEIRData) else load_beir_folder(d, split=split) for d in datasets]
        self.evaluators = [self._evaluator_for(data, retriever) for data in self.datasets]

    def _evaluator_for(self, data: BEIRData, retriever: Retriever) -> RerankingEvaluator:
        check_qrels(data)
        query_ids = [q for q, judged in data.qrels.items() if any(g > 0 for g in judged.values())]
        skipped = len(data.qrels) - len(query_ids)
        if skipped:
            logger.info("%s: skipping %d judged queries without a relevant document.", data.name, skipped)
        if not query_ids:
            raise ValueError(f"{data.name}: no query has a relevant document in the qrels; nothing to evaluate.")
        if isinstance(retriever, Mapping):
            if data.name not in retriever:
                raise ValueError(
                    f"the precomputed run has no entry for dataset {data.name!r}; it has {sorted(retriever)}."
                )
            run = retriever[data.name]
        elif isinstance(retriever, str):
            if retriever != "bm25":
                raise ValueError(f"retriever must be 'bm25', an embedder or a run; got {retriever!r}.")
            run = bm25_search(data, query_ids, self.rerank_k)
        elif isinstance(retriever, TextEncoder):
            run = dense_search(data, query_ids, self.rerank_k, retriever)
        else:
            raise TypeError(f"retriever must be 'bm25', an object with encode(texts) or a run; got {type(retriever)}.")
        lists = build_lists(data, run, self.rerank_k, self.at_k, self.always_rerank_positives, self.ndcg_gains)
        return RerankingEvaluator.from_ranking_lists(
            lists, at_k=self.at_k, always_rerank_positives=self.always_rerank_positives,
            name=f"{data.name}_R{self.rerank_k}", batch_size=self.batch_size,
            show_progress_bar=self.show_progress_bar, write_csv=self.write_csv, ndcg_gains=self.ndcg_gains,
        )

    def __call__(
        self, model: PairScorer, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Score every dataset's pairs in one call; return per-dataset and aggregated metrics.

        Args:
            model: Anything with ``predict(pairs, batch_size=…, convert_to_numpy=True, show_progress_bar=…)``.
            output_path: Folder for the CSV logs.
            epoch: Epoch number for the log and CSV.
            steps: Step number for the log and CSV.

        Returns:
            Per-dataset keys followed by the aggregate keys.
        """
        logger.info("BEIREvaluator: evaluating %s%s", [d.name for d in self.datasets], epoch_text(epoch, steps))
        pair_lists = [evaluator.pairs() for evaluator in self.evaluators]
        all_pairs = [p for pairs in pair_lists for p in pairs]
        fusion = getattr(model, "fusion", None) if self.has_first_stage else None
        if fusion is None:
            scores = logits = predict_all(model, all_pairs, self.batch_size, self.show_progress_bar, one_label=True)
        else:
            logits = logits_all(model, all_pairs, self.batch_size, self.show_progress_bar)
            scores = activate(model, logits)
        results: dict[str, float] = {}
        per_metric: dict[str, list[float]] = {}
        offset = 0
        for evaluator, pairs in zip(self.evaluators, pair_lists):
            part = slice(offset, offset + len(pairs))
            metrics = evaluator.compute(scores[part], output_path, epoch, steps)
            if fusion is not None:
                metrics.update(evaluator.compute_fused(logits[part], fusion))
            offset += len(pairs)
            for key, value in metrics.items():
                results[key] = value
                per_metric.setdefault(key.removeprefix(f"{evaluator.name}_"), []).append(value)
        aggregate = {metric: float(self.aggregate_fn(values)) for metric, values in per_metric.items()}
        self._log_and_write(aggregate, output_path, epoch, steps)
        results.update(self.prefix_metrics(aggregate))
        return results

    @property
    def has_first_stage(self) -> bool:
        """Whether the candidate lists carry first-stage scores (fusion metrics and tuning)."""
        return any(evaluator.has_first_stage for evaluator in self.evaluators)

    def tune_fusion(
        self, model: PairScorer, metric: str | None = None, weights: Sequence[float] | None = None,
        normalize: str = "zscore", rule: str = "plateau",
    ) -> tuple[Any, dict[float, float]]:
        """Choose the first-stage fusion weight on all datasets' lists pooled (one weight for the model).

        Needs first-stage scores: a BM25 or embedder first stage (or a run of ``{doc id: score}``) with
        ``always_rerank_positives=False``. ``metric`` defaults to ``ndcg@{at_k}``; see
        :meth:`RerankingEvaluator.tune_fusion` for the rest.
        """
        if not self.has_first_stage:
            raise ValueError(
                f"{self.name} has no first-stage scores to fuse: build it with always_rerank_positives=False and a "
                "BM25/embedder first stage or a run of {doc id: score}."
            )
        pooled = RerankingEvaluator.from_ranking_lists(
            [item for evaluator in self.evaluators for item in evaluator.lists], at_k=self.at_k,
            always_rerank_positives=False, name=self.name, batch_size=self.batch_size,
            show_progress_bar=self.show_progress_bar, write_csv=False, ndcg_gains=self.ndcg_gains,
        )
        return pooled.tune_fusion(model, metric or f"ndcg@{self.at_k}", weights, normalize, rule)

    def _log_and_write(self, aggregate: dict[str, float], output_path: str | None, epoch: int, steps: int) -> None:
        names = ["map", f"mrr@{self.at_k}", f"ndcg@{self.at_k}"]
        rows = [[n.upper(), aggregate[f"base_{n}"], aggregate[n]] for n in names]
        logger.info("%s over %d datasets:\n%s", self.name, len(self.datasets),
                    format_table(["metric", "base", "reranked"], rows))
        if output_path is not None and self.write_csv:
            headers = ["epoch", "steps", "MAP", f"MRR@{self.at_k}", f"NDCG@{self.at_k}"]
            append_csv_row(output_path, self.csv_file, headers, [epoch, steps, *(aggregate[n] for n in names)])

    def get_config_dict(self) -> dict[str, Any]:
        """Settings for the model card."""
        config: dict[str, Any] = {"datasets": [d.name for d in self.datasets], "rerank_k": self.rerank_k,
                                  "at_k": self.at_k, "always_rerank_positives": self.always_rerank_positives}
        if self.ndcg_gains != "binary":
            config["ndcg_gains"] = self.ndcg_gains
        return config
