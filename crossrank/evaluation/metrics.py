"""Pure metric functions: scores and labels in, numbers out (numpy only, no model, no I/O).

Ranking metrics take one query's ``relevance`` (binary 0/1 or graded gains) and the model's ``scores`` for
the same documents. Their definitions follow the reference evaluators exactly, including tie handling:

* ranks come from sorting scores in descending order; among equal scores, the document that appears
  *later* in the input is ranked first (the reverse of a stable ascending sort);
* NDCG uses linear gains (``gain = relevance``) with a ``1 / log2(rank + 1)`` discount and averages the
  gain over groups of tied scores, so a tie never favours either document;
* average precision is computed over the whole list (no cut-off); tied scores are treated as one
  threshold, as in a precision-recall curve.

Classification and correlation helpers reproduce the reference's best-threshold search and the usual
averaged F1 scores.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "average_precision",
    "best_accuracy_and_threshold",
    "best_f1_and_threshold",
    "f1_scores",
    "mrr_at_k",
    "ndcg_at_k",
    "pearson",
    "rank_order",
    "recall_at_k",
    "spearman",
]


def _as_pair(relevance: ArrayLike, scores: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert and check one query's relevance and score vectors."""
    rel = np.asarray(relevance, dtype=np.float64).reshape(-1)
    sco = np.asarray(scores, dtype=np.float64).reshape(-1)
    if rel.shape != sco.shape:
        raise ValueError(
            f"relevance and scores must have the same length; got {rel.shape[0]} relevance values and "
            f"{sco.shape[0]} scores. Pass one score per document."
        )
    return rel, sco


def _check_k(k: int) -> None:
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}.")


def rank_order(scores: ArrayLike) -> NDArray[np.intp]:
    """Indices of the documents from best to worst score.

    Ties are broken the way the reference evaluator breaks them: the later document comes first.

    Args:
        scores: One score per document.

    Returns:
        The permutation that sorts ``scores`` in descending order.
    """
    return np.argsort(np.asarray(scores, dtype=np.float64).reshape(-1), kind="stable")[::-1]


def mrr_at_k(relevance: ArrayLike, scores: ArrayLike, k: int = 10) -> float:
    """Reciprocal rank of the first relevant document within the top ``k`` (0 when there is none).

    Args:
        relevance: Binary or graded relevance per document; any value > 0 counts as relevant.
        scores: Model score per document.
        k: Cut-off rank.

    Returns:
        ``1 / rank`` of the first relevant document, or 0.0.
    """
    _check_k(k)
    rel, sco = _as_pair(relevance, scores)
    for rank, index in enumerate(rank_order(sco)[:k], start=1):
        if rel[index] > 0:
            return 1.0 / rank
    return 0.0


def _discounts(n: int, k: int) -> NDArray[np.float64]:
    discount = 1.0 / np.log2(np.arange(n, dtype=np.float64) + 2.0)
    discount[k:] = 0.0
    return discount


def _tie_averaged_dcg(gains: NDArray[np.float64], scores: NDArray[np.float64], k: int) -> float:
    """DCG where every group of tied scores receives the mean gain of its members."""
    discount = _discounts(gains.shape[0], k)
    unique, inverse, counts = np.unique(-scores, return_inverse=True, return_counts=True)
    group_gain = np.zeros(unique.shape[0])
    np.add.at(group_gain, inverse, gains)
    group_gain /= counts
    ends = np.cumsum(counts)
    cumulative = np.concatenate([[0.0], np.cumsum(discount)])
    group_discount = cumulative[ends] - cumulative[ends - counts]
    return float(np.sum(group_gain * group_discount))


def ndcg_at_k(relevance: ArrayLike, scores: ArrayLike, k: int = 10) -> float:
    """Normalised discounted cumulative gain at ``k``.

    Gains are the relevance values themselves (pass 0/1 for the binary NDCG of the reference, or graded
    values such as 0-3 for graded NDCG). Tied scores share their gain evenly. A query without any
    positive gain scores 0.0.

    Args:
        relevance: Gain per document (non-negative).
        scores: Model score per document.
        k: Cut-off rank.

    Returns:
        DCG@k divided by the ideal DCG@k, in [0, 1].
    """
    _check_k(k)
    rel, sco = _as_pair(relevance, scores)
    if rel.size == 0:
        return 0.0
    if np.any(rel < 0):
        raise ValueError(f"NDCG gains must be non-negative; got minimum {rel.min()}. Map negative grades to 0.")
    ideal = float(np.sum(np.sort(rel)[::-1] * _discounts(rel.shape[0], k)))
    if ideal == 0.0:
        return 0.0
    return _tie_averaged_dcg(rel, sco, k) / ideal


def average_precision(relevance: ArrayLike, scores: ArrayLike) -> float:
    """Average precision over the whole ranked list (relevance > 0 counts as relevant).

    Equal scores form one threshold: precision is measured after the whole tied group. Without ties this
    is the mean, over the relevant documents, of the precision at each one's rank. A list without
    relevant documents scores 0.0.

    Args:
        relevance: Binary or graded relevance per document.
        scores: Model score per document.

    Returns:
        The average precision, in [0, 1].
    """
    rel, sco = _as_pair(relevance, scores)
    positive = rel > 0
    total = int(positive.sum())
    if total == 0:
        return 0.0
    order = np.argsort(-sco, kind="stable")
    sorted_scores = sco[order]
    true_pos = np.cumsum(positive[order])
    # the last index of every group of equal scores is a threshold
    last = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.shape[0] - 1]
    tp = true_pos[last].astype(np.float64)
    precision = tp / (last + 1)
    recall_step = np.diff(np.r_[0.0, tp]) / total
    return float(np.sum(recall_step * precision))


def recall_at_k(relevance: ArrayLike, scores: ArrayLike, k: int = 10) -> float:
    """Share of the relevant documents that appear in the top ``k`` (0.0 when none is relevant).

    Args:
        relevance: Binary or graded relevance per document; any value > 0 counts as relevant.
        scores: Model score per document.
        k: Cut-off rank.

    Returns:
        Relevant documents in the top ``k`` divided by all relevant documents.
    """
    _check_k(k)
    rel, sco = _as_pair(relevance, scores)
    total = int(np.sum(rel > 0))
    if total == 0:
        return 0.0
    return float(np.sum(rel[rank_order(sco)[:k]] > 0)) / total


# --------------------------------------------------------------------------- classification


def _binary_inputs(scores: ArrayLike, labels: ArrayLike) -> tuple[NDArray, NDArray[np.int64]]:
    sco = np.asarray(scores).reshape(-1)
    lab = np.asarray(labels).reshape(-1)
    if sco.shape != lab.shape:
        raise ValueError(
            f"scores and labels must have the same length; got {sco.shape[0]} scores and {lab.shape[0]} labels."
        )
    if lab.size and not np.isin(lab, (0, 1)).all():
        found = sorted({float(v) for v in np.unique(lab)} - {0.0, 1.0})[:5]
        raise ValueError(f"binary labels must be 0 or 1; found {found}. Map your classes to 0/1 first.")
    return sco, lab.astype(np.int64)


def _groups_descending(scores: NDArray) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Sort order (descending, stable) and the last index of every tied group in it."""
    order = np.argsort(-scores.astype(np.float64), kind="stable")
    ordered = scores[order]
    last = np.r_[np.flatnonzero(ordered[1:] != ordered[:-1]), ordered.shape[0] - 1]
    return order, last


def _midpoint(ordered: NDArray, i: int) -> float:
    """Threshold between group ending at ``i`` and the next one; never equal to the next score."""
    if i == ordered.shape[0] - 1:
        return float(ordered[i])
    mid = (ordered[i] + ordered[i + 1]) / 2
    return float(ordered[i]) if mid == ordered[i + 1] else float(mid)


def best_accuracy_and_threshold(scores: ArrayLike, labels: ArrayLike) -> tuple[float, float]:
    """Best accuracy of the rule ``score >= threshold -> 1`` and the threshold that reaches it.

    Candidates are "everything negative" (threshold just above the top score) and the midpoints between
    consecutive distinct scores; the first best candidate wins.

    Args:
        scores: One score per pair (higher means more likely positive).
        labels: 0/1 gold labels.

    Returns:
        ``(accuracy, threshold)``; ``(0.0, -1.0)`` for empty input.
    """
    sco, lab = _binary_inputs(scores, labels)
    if sco.size == 0:
        return 0.0, -1.0
    order, last = _groups_descending(sco)
    ordered, ordered_labels = sco[order], lab[order]
    n = lab.shape[0]
    best = float(np.sum(lab == 0)) / n
    dtype = np.result_type(sco.dtype, np.float16)
    threshold = float(np.nextafter(ordered[0].astype(dtype), dtype.type(np.inf)))
    pos_so_far = np.cumsum(ordered_labels == 1)
    neg_left = np.sum(lab == 0) - np.cumsum(ordered_labels == 0)
    for i in last:
        acc = float(pos_so_far[i] + neg_left[i]) / n
        if acc > best:
            best, threshold = acc, _midpoint(ordered, int(i))
    return best, threshold


def best_f1_and_threshold(scores: ArrayLike, labels: ArrayLike) -> tuple[float, float, float, float]:
    """Best F1 of the rule ``score >= threshold -> 1`` with its precision, recall and threshold.

    Args:
        scores: One score per pair (higher means more likely positive).
        labels: 0/1 gold labels.

    Returns:
        ``(f1, precision, recall, threshold)``; all zeros when no threshold finds a positive.
    """
    sco, lab = _binary_inputs(scores, labels)
    if sco.size == 0:
        return 0.0, 0.0, 0.0, 0.0
    order, last = _groups_descending(sco)
    ordered = sco[order]
    correct = np.cumsum(lab[order] == 1)
    total = int(lab.sum())
    best = (0.0, 0.0, 0.0, 0.0)
    for i in last:
        if correct[i] == 0:
            continue
        precision = float(correct[i]) / (i + 1)
        recall = float(correct[i]) / total
        f1 = 2 * precision * recall / (precision + recall)
        if f1 > best[0]:
            best = (f1, precision, recall, _midpoint(ordered, int(i)))
    return best


def f1_scores(labels: ArrayLike, predictions: ArrayLike) -> dict[str, float]:
    """Macro, micro and support-weighted F1 of predicted class ids against gold class ids.

    Classes are those that occur in the labels or the predictions; a class with no predicted and no gold
    member cannot occur. Per-class F1 is 0 when its precision and recall are both 0.

    Args:
        labels: Gold class ids.
        predictions: Predicted class ids, same length.

    Returns:
        ``{"f1_macro": …, "f1_micro": …, "f1_weighted": …}``.
    """
    gold = np.asarray(labels).reshape(-1)
    pred = np.asarray(predictions).reshape(-1)
    if gold.shape != pred.shape:
        raise ValueError(
            f"labels and predictions must have the same length; got {gold.shape[0]} and {pred.shape[0]}."
        )
    if gold.size == 0:
        raise ValueError("F1 needs at least one example; got empty labels.")
    classes = np.union1d(gold, pred)
    tp = np.array([np.sum((gold == c) & (pred == c)) for c in classes], dtype=np.float64)
    support = np.array([np.sum(gold == c) for c in classes], dtype=np.float64)
    predicted = np.array([np.sum(pred == c) for c in classes], dtype=np.float64)
    denom = support + predicted
    per_class = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return {
        "f1_macro": float(per_class.mean()),
        "f1_micro": float(tp.sum() / gold.shape[0]),
        "f1_weighted": float(np.sum(per_class * support) / support.sum()),
    }


# --------------------------------------------------------------------------- correlation


def _as_vectors(a: ArrayLike, b: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(a, dtype=np.float64).reshape(-1)
    y = np.asarray(b, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"correlation needs two vectors of the same length; got {x.shape[0]} and {y.shape[0]}.")
    if x.shape[0] < 2:
        raise ValueError(f"correlation needs at least 2 values; got {x.shape[0]}.")
    return x, y


def pearson(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson correlation coefficient; NaN when either vector is constant.

    Args:
        a: First vector (e.g. gold scores).
        b: Second vector (e.g. predictions).

    Returns:
        The correlation in [-1, 1], or NaN.
    """
    x, y = _as_vectors(a, b)
    xc, yc = x - x.mean(), y - y.mean()
    norm = np.linalg.norm(xc) * np.linalg.norm(yc)
    if norm == 0.0:
        return float("nan")
    return float(np.clip(np.dot(xc / np.linalg.norm(xc), yc / np.linalg.norm(yc)), -1.0, 1.0))


def _average_ranks(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-based ranks; tied values share the mean of their ranks."""
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    starts = np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1]
    ends = np.r_[starts[1:], x.shape[0]]
    ranks = np.empty_like(x)
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return ranks


def spearman(a: ArrayLike, b: ArrayLike) -> float:
    """Spearman rank correlation (Pearson of average ranks); NaN when either vector is constant.

    Args:
        a: First vector (e.g. gold scores).
        b: Second vector (e.g. predictions).

    Returns:
        The correlation in [-1, 1], or NaN.
    """
    x, y = _as_vectors(a, b)
    return pearson(_average_ranks(x), _average_ranks(y))

