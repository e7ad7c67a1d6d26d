"""Reranking evaluation: score every (query, document) pair once, then MAP, MRR@k and NDCG@k.

The sample format, metric keys and numbers follow the reference's cross-encoder reranking evaluator, so
``metric_for_best_model="eval_{name}_ndcg@10"`` works unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from crossrank.evaluation import metrics as M
from crossrank.evaluation._csv import append_csv_row
from crossrank.evaluation._pairs import activate, logits_all, predict_all
from crossrank.evaluation._table import format_table
from crossrank.evaluation.base import Evaluator, epoch_text
from crossrank.inference.protocols import PairScorer

logger = logging.getLogger(__name__)

NdcgGains = Literal["binary", "graded"]


@dataclass(frozen=True)
class RankingList:
    """One query prepared for scoring.

    Attributes:
        query: The query text.
        documents: The documents to score with the model, in input order.
        gains: Relevance of each document (0 = not relevant; 1 or a grade otherwise).
        base: ``(map, mrr@k, ndcg@k)`` of the first-stage order, or None without a first stage.
        num_positives: Number of relevant documents the query has (scored or not).
        first_stage: The first stage's score of each document (same order), for score fusion; None without.
    """

    query: str
    documents: list[str]
    gains: list[float]
    base: tuple[float, float, float] | None = None
    num_positives: int = 0
    first_stage: list[float] | None = None


def check_measurable(lists: Sequence[RankingList], name: str = "") -> None:
    """Refuse samples whose metrics cannot mean anything: no query with a relevant document, or every query's
    candidates one identical text (a wrong document column: any model would get the same constant metrics)."""
    label = f"evaluator {name!r}" if name else "the evaluator"
    scored = [item for item in lists if any(g > 0 for g in item.gains)]
    if not scored:
        raise ValueError(
            f"{label}: none of its {len(lists)} queries has a relevant document, so no ranking metric can be "
            "computed. Fix: check the label column (relevant documents need a label above the threshold, e.g. 1)."
        )
    ranked = [item for item in scored if len(item.documents) > 1]
    if ranked and all(len(set(item.documents)) == 1 for item in ranked):
        example = ranked[0].documents[0]
        same = " (the query text itself)" if example == ranked[0].query else ""
        raise ValueError(
            f"{label}: every query's candidates are one identical text{same}, e.g. {example[:60]!r}, so the ranking "
            "metrics cannot be computed. Fix: check which column holds the documents."
        )


def measure(gains: Sequence[float], scores: Any, at_k: int, ndcg_gains: NdcgGains = "binary") -> tuple[float, ...]:
    """``(average precision, MRR@k, NDCG@k)`` of one query's documents ranked by ``scores``.

    Args:
        gains: Relevance per document; > 0 means relevant.
        scores: One score per document.
        at_k: Cut-off for MRR and NDCG.
        ndcg_gains: ``"binary"`` (every relevant document has gain 1, the reference's definition) or
            ``"graded"`` (the relevance values are the gains).

    Returns:
        The three metric values.
    """
    rel = np.asarray(gains, dtype=np.float64)
    binary = (rel > 0).astype(np.float64)
    ndcg = M.ndcg_at_k(rel if ndcg_gains == "graded" else binary, scores, at_k)
    return M.average_precision(binary, scores), M.mrr_at_k(binary, scores, at_k), ndcg


def first_stage_metrics(
    ranked_gains: Sequence[float], missing_gains: Sequence[float], at_k: int, ndcg_gains: NdcgGains = "binary"
) -> tuple[float, float, float]:
    """Metrics of a first-stage ranking; relevant documents it missed are placed after its last document.

    A ranking without any relevant document scores 0 on every metric.

    Args:
        ranked_gains: Relevance of the first-stage documents, best first.
        missing_gains: Relevance of the relevant documents the first stage did not return.
        at_k: Cut-off for MRR and NDCG.
        ndcg_gains: ``"binary"`` or ``"graded"``, as in :func:`measure`.

    Returns:
        ``(map, mrr@k, ndcg@k)``.
    """
    if not any(g > 0 for g in ranked_gains):
        return 0.0, 0.0, 0.0
    gains = list(ranked_gains) + list(missing_gains)
    scores = np.arange(len(gains), 0, -1, dtype=np.float64)
    return measure(gains, scores, at_k, ndcg_gains)  # type: ignore[return-value]


def _as_text_list(value: Any, key: str, index: int) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise ValueError(
            f"sample {index}: '{key}' must be a string or a list of strings; got {type(value).__name__}. "
            f"Pass the document texts, e.g. {{'{key}': ['text 1', 'text 2']}}."
        )
    return list(value)


def prepare_sample(sample: Mapping[str, Any], index: int, at_k: int, always_rerank_positives: bool) -> RankingList:
    """Validate one ``{"query", "positive", "negative" | "documents"}`` sample and build its list."""
    if not isinstance(sample, Mapping):
        raise ValueError(f"sample {index}: expected a dict with 'query' and 'positive'; got {type(sample).__name__}.")
    for key in ("query", "positive"):
        if key not in sample:
            raise ValueError(
                f"sample {index}: missing key '{key}'; found keys {sorted(sample)}. Every sample needs "
                "'query', 'positive' and exactly one of 'negative' or 'documents'."
            )
    if ("negative" in sample) == ("documents" in sample):
        raise ValueError(
            f"sample {index}: expected exactly one of 'negative' or 'documents'; found keys {sorted(sample)}. "
            "Use 'negative' for unranked negatives or 'documents' for a ranked first-stage list."
        )
    query, positive = sample["query"], _as_text_list(sample["positive"], "positive", index)
    if "negative" in sample:
        if "first_stage_scores" in sample:
            raise ValueError(
                f"sample {index}: 'first_stage_scores' go with a ranked 'documents' list, not with 'negative'. "
                "Pass 'documents' (all candidates) and one first-stage score per document."
            )
        negative = _as_text_list(sample["negative"], "negative", index)
        gains = [1.0] * len(positive) + [0.0] * len(negative)
        return RankingList(query, positive + negative, gains, None, len(positive))
    documents = _as_text_list(sample["documents"], "documents", index)
    first = _first_stage_scores(sample, len(documents), index)
    positive_set = set(positive)
    ranked = [1.0 if doc in positive_set else 0.0 for doc in documents]
    missing = [1.0] * max(len(positive) - int(sum(ranked)), 0)
    base = first_stage_metrics(ranked, missing, at_k)
    if always_rerank_positives:
        rest = [i for i, doc in enumerate(documents) if doc not in positive_set]
        docs = positive + [documents[i] for i in rest]
        gains = [1.0] * len(positive) + [0.0] * (len(docs) - len(positive))
        if first is not None:
            # a positive the first stage missed gets the list's lowest first-stage score
            found = {doc: score for doc, score in zip(documents, first)}
            floor = min(first) if first else 0.0
            first = [found.get(doc, floor) for doc in positive] + [first[i] for i in rest]
    else:
        docs, gains = documents, ranked
    return RankingList(query, docs, gains, base, len(positive), first)


def _first_stage_scores(sample: Mapping[str, Any], num_documents: int, index: int) -> list[float] | None:
    """The optional ``first_stage_scores`` of a ``documents`` sample, checked: one finite number per document."""
    if "first_stage_scores" not in sample or sample["first_stage_scores"] is None:
        return None
    try:
        scores = [float(v) for v in sample["first_stage_scores"]]
    except (TypeError, ValueError) as err:
        raise ValueError(f"sample {index}: 'first_stage_scores' must be a list of numbers ({err}).") from err
    if len(scores) != num_documents or not all(np.isfinite(scores)):
        raise ValueError(
            f"sample {index}: expected {num_documents} finite 'first_stage_scores' (one per document); found "
            f"{len(scores)} values{'' if all(np.isfinite(scores)) else ' with NaN or infinity'}."
        )
    return scores


class RerankingEvaluator(Evaluator):
    """Rerank each query's documents with the model and report MAP, MRR@k and NDCG@k.

    Inputs:

    ============================================  ===========================================================
    sample key                                    meaning
    ============================================  ===========================================================
    ``query`` (str)                               the query
    ``positive`` (str or list[str])               relevant documents
    ``negative`` (list[str])                      irrelevant documents (exclusive with ``documents``)
    ``documents`` (list[str])                     a first-stage ranking, best first (exclusive with
                                                  ``negative``); adds ``base_*`` metrics of that order
    ============================================  ===========================================================

    With ``documents`` and ``always_rerank_positives=True`` (default) every positive is scored even when the
    first stage missed it; with ``False`` only the listed documents are scored (a realistic pipeline score).
    A query with nothing relevant to score counts as 0 on every metric and is reported in the log.

    Returns ``{name}_map``, ``{name}_mrr@{at_k}``, ``{name}_ndcg@{at_k}`` and, with ``documents``,
    ``{name}_base_map``, ``{name}_base_mrr@{at_k}``, ``{name}_base_ndcg@{at_k}``. Primary metric:
    ``{name}_ndcg@{at_k}``. All pairs are scored in a single batched ``model.predict`` call.

    Example:
        >>> samples = [{"query": "capital of france", "positive": ["paris is the capital"],
        ...             "negative": ["a cat", "the moon"]}]
        >>> evaluator = RerankingEvaluator(samples, name="demo")
        >>> evaluator.primary_metric
        'demo_ndcg@10'
    """

    def __init__(
        self,
        samples: Iterable[Mapping[str, Any]] | Mapping[Any, Mapping[str, Any]],
        at_k: int = 10,
        always_rerank_positives: bool = True,
        name: str = "",
        batch_size: int = 64,
        show_progress_bar: bool = False,
        write_csv: bool = True,
        mrr_at_k: int | None = None,
    ) -> None:
        """Validate and prepare the samples (no model call happens here).

        Args:
            samples: Sample dicts (see the class docstring), or a dict whose values are sample dicts.
            at_k: Cut-off for MRR and NDCG.
            always_rerank_positives: Score every positive even if the first stage missed it.
            name: Prefix of the metric keys and of the CSV file name.
            batch_size: Batch size of the scoring call.
            show_progress_bar: Show a progress bar while scoring.
            write_csv: Append a CSV row under ``output_path`` on every call.
            mrr_at_k: Deprecated alias of ``at_k``.
        """
        if mrr_at_k is not None:
            logger.warning("`mrr_at_k` is deprecated; use `at_k=%d` instead.", mrr_at_k)
            at_k = mrr_at_k
        self._configure(at_k, always_rerank_positives, name, batch_size, show_progress_bar, write_csv)
        self.samples = list(samples.values()) if isinstance(samples, Mapping) else list(samples)
        if not self.samples:
            raise ValueError(
                "RerankingEvaluator needs at least one sample; got none. Pass a list of dicts with "
                "'query', 'positive' and 'negative' or 'documents'."
            )
        self.lists = [prepare_sample(s, i, at_k, always_rerank_positives) for i, s in enumerate(self.samples)]
        check_measurable(self.lists, name)

    def _configure(
        self, at_k: int, always_rerank_positives: bool, name: str, batch_size: int, show_progress_bar: bool,
        write_csv: bool, ndcg_gains: NdcgGains = "binary",
    ) -> None:
        if not isinstance(at_k, int) or at_k < 1:
            raise ValueError(f"at_k must be a positive integer; got {at_k!r}.")
        self.at_k = at_k
        self.always_rerank_positives = always_rerank_positives
        self.name = name
        self.batch_size = batch_size
        self.show_progress_bar = show_progress_bar
        self.write_csv = write_csv
        self.ndcg_gains = ndcg_gains
        self.primary_metric = self.prefixed(f"ndcg@{at_k}")
        self.greater_is_better = True
        self.csv_file = "RerankingEvaluator" + (f"_{name}" if name else "") + f"_results_@{at_k}.csv"

    @classmethod
    def from_ranking_lists(
        cls, lists: Sequence[RankingList], *, at_k: int = 10, always_rerank_positives: bool = True, name: str = "",
        batch_size: int = 64, show_progress_bar: bool = False, write_csv: bool = True,
        ndcg_gains: NdcgGains = "binary",
    ) -> RerankingEvaluator:
        """Build an evaluator from already prepared lists (used for BEIR-style data with ids and grades)."""
        if not lists:
            raise ValueError(f"evaluator {name!r} needs at least one query; got none.")
        evaluator = cls.__new__(cls)
        evaluator._configure(at_k, always_rerank_positives, name, batch_size, show_progress_bar, write_csv, ndcg_gains)
        evaluator.samples = []
        evaluator.lists = list(lists)
        check_measurable(evaluator.lists, name)
        return evaluator

    @property
    def has_base(self) -> bool:
        """Whether the samples carry a first-stage order (``documents``), hence ``base_*`` metrics."""
        return any(item.base is not None for item in self.lists)

    def __call__(
        self, model: PairScorer, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Score all pairs once, compute the metrics, log a table and append a CSV row.

        Args:
            model: Anything with ``predict(pairs, batch_size=…, convert_to_numpy=True, show_progress_bar=…)``.
            output_path: Folder for the CSV log (skipped when None or ``write_csv`` is False).
            epoch: Epoch number for the log and CSV (-1 = not in training).
            steps: Step number for the log and CSV (-1 = end of epoch).

        Returns:
            The metrics dictionary, keys prefixed with the evaluator name.
        """
        logger.info("RerankingEvaluator: evaluating %s%s", self.name or "the samples", epoch_text(epoch, steps))
        fusion = getattr(model, "fusion", None) if self.has_first_stage else None
        if fusion is None:
            scores = predict_all(model, self.pairs(), self.batch_size, self.show_progress_bar, one_label=True)
            return self.compute(scores, output_path, epoch, steps)
        logits = self._logits(model)
        metrics = self.compute(activate(model, logits), output_path, epoch, steps)
        metrics.update(self.compute_fused(logits, fusion))
        return metrics

    def compute_fused(self, logits: np.ndarray, fusion: Any) -> dict[str, float]:
        """``fused_*`` metrics (prefixed) of raw ``logits`` in :meth:`pairs` order blended by ``fusion``."""
        fused = fused_metrics(self._scored(), logits, fusion, self.at_k, self.ndcg_gains, len(self.lists))
        logger.info("%s fused with the first stage (weight %.2f): %s", self.name or "Samples", fusion.weight,
                    ", ".join(f"{k} {v:.4f}" for k, v in fused.items()))
        return self.prefix_metrics({f"fused_{k}": v for k, v in fused.items()})

    @property
    def has_first_stage(self) -> bool:
        """Whether the samples carry ``first_stage_scores`` (enables fusion metrics and tuning)."""
        return any(item.first_stage is not None for item in self.lists)

    def ranked_first_stage(self) -> dict[str, float]:
        """MAP, MRR@k and NDCG@k of the first stage's own scores, on the basis of the reranked metrics.

        The ``base_*`` metrics count relevant documents the first stage missed (the reference's definition);
        the reranked and ``fused_*`` ones see only the listed documents. This is the first stage measured the
        second way, so it compares with them like for like (lists without first-stage scores count 0).
        """
        ranked = [(item.gains, item.first_stage) for item in self._scored() if item.first_stage is not None]
        return mean_measure(ranked, self.at_k, self.ndcg_gains, len(self.lists))

    def _logits(self, model: PairScorer) -> np.ndarray:
        return logits_all(model, self.pairs(), self.batch_size, self.show_progress_bar)

    def tune_fusion(
        self, model: PairScorer, metric: str = "map", weights: Sequence[float] | None = None, normalize: str = "zscore",
        rule: str = "plateau",
    ) -> tuple[Any, dict[float, float]]:
        """Choose the first-stage fusion weight by ``metric`` (map, mrr@k or ndcg@k) on these samples.

        ``rule`` is that of :func:`crossrank.inference.fusion.tune_fusion` (``plateau``: the middle of the weights tied
        with the best; ``best``: the best one).

        Returns:
            The :class:`~crossrank.inference.fusion.Fusion` (store it with ``model.fusion = ...``) and the
            metric per weight.
        """
        from crossrank.inference.fusion import DEFAULT_WEIGHTS, FusionList, tune_fusion

        if not self.has_first_stage:
            raise ValueError(
                f"evaluator {self.name!r} has no first-stage scores to fuse. Build its samples with "
                "'documents' and 'first_stage_scores' (crossrank.mining.eval_samples.add_first_stage_scores)."
            )
        column = _metric_column(metric, self.at_k)
        logits = self._logits(model)
        lists = []
        for item, chunk in per_list(self._scored(), logits):
            first = item.first_stage if item.first_stage is not None else chunk
            lists.append(FusionList(item.gains, chunk, np.asarray(first, dtype=np.float64)))
        return tune_fusion(
            lists, lambda g, s: measure(g, s, self.at_k, self.ndcg_gains)[column],
            weights if weights is not None else DEFAULT_WEIGHTS, normalize,  # type: ignore[arg-type]
            tuned_on=f"{self.name or 'dev'} {metric}", rule=rule,  # type: ignore[arg-type]
        )

    def _scored(self) -> list[RankingList]:
        return [item for item in self.lists if any(g > 0 for g in item.gains)]

    def pairs(self) -> list[tuple[str, str]]:
        """The (query, document) pairs to score, in the order :meth:`compute` expects their scores."""
        return [(item.query, doc) for item in self._scored() for doc in item.documents]

    def compute(
        self, scores: np.ndarray, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Metrics from the scores of :meth:`pairs` (lets a caller score several evaluators in one call).

        Args:
            scores: One score per pair of :meth:`pairs`, same order.
            output_path: Folder for the CSV log.
            epoch: Epoch number for the log and CSV.
            steps: Step number for the log and CSV.

        Returns:
            The metrics dictionary, keys prefixed with the evaluator name.
        """
        scored = self._scored()
        per_query = np.zeros((len(self.lists), 3))
        offset, position = 0, 0
        for row, item in enumerate(self.lists):
            if position < len(scored) and scored[position] is item:
                chunk = scores[offset : offset + len(item.documents)]
                per_query[row] = measure(item.gains, chunk, self.at_k, self.ndcg_gains)
                offset += len(item.documents)
                position += 1
        if offset != len(scores):
            raise ValueError(f"expected {offset} scores for {self.name or 'the samples'}; got {len(scores)}.")
        skipped = len(self.lists) - len(scored)
        if skipped:
            logger.warning(
                "%d of %d queries have no relevant document to score; they count as 0 on every metric.",
                skipped, len(self.lists),
            )
        return self._report(per_query.mean(axis=0), output_path, epoch, steps)

    def _report(self, reranked: np.ndarray, output_path: str | None, epoch: int, steps: int) -> dict[str, float]:
        k = self.at_k
        names = ["map", f"mrr@{k}", f"ndcg@{k}"]
        metrics: dict[str, float] = dict(zip(names, reranked.tolist()))
        self._log_counts()
        if self.has_base:
            # averaged over the queries that have a first stage, as the reference does
            base = np.mean([item.base for item in self.lists if item.base is not None], axis=0)
            metrics.update({f"base_{key}": float(value) for key, value in zip(names, base)})
            rows = [[n.upper(), b, r] for n, b, r in zip(names, base, reranked)]
            logger.info("\n%s", format_table(["metric", "base", "reranked"], rows))
        else:
            logger.info("\n%s", format_table(["metric", "value"], [[n.upper(), v] for n, v in zip(names, reranked)]))
        if output_path is not None and self.write_csv:
            headers = ["epoch", "steps", "MAP", f"MRR@{k}", f"NDCG@{k}"]
            append_csv_row(output_path, self.csv_file, headers, [epoch, steps, *reranked.tolist()])
        return self.prefix_metrics(metrics)

    def _log_counts(self) -> None:
        positives = [item.num_positives for item in self.lists]
        negatives = [sum(1 for g in item.gains if g <= 0) for item in self.lists]
        logger.info(
            "Queries: %d  Positives: min %d, mean %.1f, max %d  Negatives: min %d, mean %.1f, max %d",
            len(self.lists), min(positives), float(np.mean(positives)), max(positives),
            min(negatives), float(np.mean(negatives)), max(negatives),
        )

    def get_config_dict(self) -> dict[str, Any]:
        """``at_k`` and, for first-stage samples, ``always_rerank_positives``."""
        config: dict[str, Any] = {"at_k": self.at_k}
        if self.has_base:
            config["always_rerank_positives"] = self.always_rerank_positives
        if self.ndcg_gains != "binary":
            config["ndcg_gains"] = self.ndcg_gains
        return config


def _metric_column(metric: str, at_k: int) -> int:
    names = {"map": 0, f"mrr@{at_k}": 1, f"ndcg@{at_k}": 2}
    if metric not in names:
        raise ValueError(f"fusion can be tuned for one of {sorted(names)}; found {metric!r}.")
    return names[metric]


def fused_metrics(
    scored: Sequence[RankingList], logits: np.ndarray, fusion: Any, at_k: int, ndcg_gains: NdcgGains, num_queries: int
) -> dict[str, float]:
    """MAP, MRR@k and NDCG@k of the fused scores, averaged over all ``num_queries`` (unscorable ones count 0)."""
    ranked = [(item.gains, fusion.apply(chunk, item.first_stage) if item.first_stage is not None else chunk)
              for item, chunk in per_list(scored, logits)]
    return mean_measure(ranked, at_k, ndcg_gains, num_queries)


def mean_measure(ranked: Sequence[tuple[Sequence[float], Any]], at_k: int, ndcg_gains: NdcgGains,
                 num_queries: int) -> dict[str, float]:
    """:func:`measure` of each (gains, scores) list, summed and divided by ``num_queries`` (missing ones count 0)."""
    totals = np.zeros(3)
    for gains, scores in ranked:
        totals += measure(gains, np.asarray(scores, dtype=np.float64), at_k, ndcg_gains)
    names = ["map", f"mrr@{at_k}", f"ndcg@{at_k}"]
    return {n: float(v) for n, v in zip(names, totals / max(num_queries, 1))}


def per_list(lists: Sequence[RankingList], scores: np.ndarray) -> Iterable[tuple[RankingList, np.ndarray]]:
    """Each list with its slice of ``scores`` (flat, in :meth:`RerankingEvaluator.pairs` order)."""
    offset = 0
    for item in lists:
        yield item, scores[offset : offset + len(item.documents)]
        offset += len(item.documents)
