"""Hard-negative mining: (query, positive) pairs in, training or evaluation data out.

The pipeline is five named stages, each a short function over plain tensors and lists:

1. :func:`prepare` — de-duplicate queries and corpus (order preserving), map each query to its positives;
2. :func:`encode` — embed queries and corpus (normalised), reject NaN/inf vectors;
3. :func:`search_candidates` — top-``range_max + max_positives`` neighbours (exact or FAISS);
4. :func:`filter_candidates` — drop positives, margins against the hardest positive, ``max_score``,
   ``min_score`` (dropped candidates get score ``-inf``);
5. :func:`select_negatives` then :func:`format_rows` — sort, skip ``range_min``, take ``top`` or a seeded
   ``random`` sample, and lay the result out as triplets, n-tuples, labeled pairs or labeled lists.

``-inf`` marks "no candidate": when too few candidates survive, a query gets fewer negatives (triplet,
labeled-pair, labeled-list) or its row is dropped (n-tuple); the statistics say how many.

``range_max=None`` becomes ``range_min + num_negatives + max_positives``, or
``range_min + 10 * num_negatives + max_positives`` when a margin or ``max_score`` (or ``min_score`` with a
cross-encoder) is set; ``max_positives`` is the largest number of rows sharing one anchor. Margins compare
with the query's *hardest* (lowest-scoring) positive: ``absolute_margin`` drops ``score + m > pos``,
``relative_margin`` drops ``score > pos - |pos| * m``.

Output formats (``output_scores=True`` swaps labels for similarity scores); rows follow the unique
queries' first-seen order, each query's positives in dataset order:

============== ============================================================================
triplet        (anchor, positive, negative[, scores=[pos, neg]]), one row per negative
n-tuple        (anchor, positive, negative_1..negative_n[, scores]); rows lacking n dropped
labeled-pair   (anchor, positive=document, label 1/0 | score); per query positives, then negatives
labeled-list   (anchor, positive=[docs], labels=[1, 0, ...] | scores); rows without negatives dropped
============== ============================================================================
"""

from __future__ import annotations

import logging
import math
import os
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from crossrank.inference.protocols import EmbeddingModel, PairScorer, TextEncoder
from crossrank.mining.config import MiningConfig, check_corpus_size, resolve_range_max
from crossrank.mining.search import candidate_count, search
from crossrank.mining.stats import MiningStats, compute_stats

if TYPE_CHECKING:  # pragma: no cover
    from datasets import Dataset

logger = logging.getLogger(__name__)
NEG_INF = -math.inf


@dataclass
class Prepared:
    """De-duplicated mining inputs.

    Attributes:
        queries: unique queries in first-seen order.
        corpus: unique corpus texts (given corpus first, then positives) in first-seen order.
        positive_ids: for each unique query, the corpus ids of its distinct positives, in dataset order.
        max_positives: the largest number of dataset rows sharing one query.
        n_rows: rows in the input dataset.
    """

    queries: list[str]
    corpus: list[str]
    positive_ids: list[list[int]]
    max_positives: int
    n_rows: int

    @property
    def row_queries(self) -> list[int]:
        """Query index of each (query, positive) row, grouped by query."""
        return [q for q, ids in enumerate(self.positive_ids) for _ in ids]

    @property
    def row_positives(self) -> list[int]:
        """Corpus id of each (query, positive) row, grouped by query."""
        return [p for ids in self.positive_ids for p in ids]


@dataclass
class MiningResult:
    """What :func:`mine` returns: the dataset plus the statistics behind the report."""

    dataset: Dataset
    stats: MiningStats
    range_max: int


def resolve_columns(columns: Sequence[str], config: MiningConfig) -> tuple[str, str]:
    """Pick the anchor and positive columns: the given names, else by ``crossrank.data.columns.resolve_roles``
    (known names such as ``query``/``anchor``/``question`` and ``positive``/``sentence``/``passage``, position
    only when no name matches)."""
    from crossrank.data.columns import resolve_pair

    if len(columns) < 2 and not (config.anchor_column_name and config.positive_column_name):
        raise ValueError(f"Mining needs (anchor, positive) columns; the dataset has only {list(columns)}.")
    anchor, positive = resolve_pair(list(columns), config.anchor_column_name, config.positive_column_name,
                                    fix="pass anchor_column_name and positive_column_name.")
    for role, name in (("anchor", anchor), ("positive", positive)):
        if name not in columns:
            raise ValueError(
                f"{role}_column_name={name!r} is not a dataset column; found {list(columns)}. "
                f"Pass one of those as {role}_column_name."
            )
    return anchor, positive


def _check_texts(values: Sequence[Any], column: str) -> list[str]:
    for row, value in enumerate(values):
        if not isinstance(value, str):
            raise ValueError(
                f"Column {column!r} row {row} holds {type(value).__name__} ({value!r}); mining needs text in "
                "every anchor and positive cell. Drop or fill those rows first."
            )
    return list(values)


def prepare(anchors: Sequence[str], positives: Sequence[str], corpus: Sequence[str] | None) -> Prepared:
    """De-duplicate queries and corpus, keeping first-seen order, and index each query's positives.

    Args:
        anchors: one query per dataset row.
        positives: one positive per dataset row.
        corpus: extra candidate texts; ``None`` means the positives are the corpus.

    Returns:
        The prepared inputs (the corpus always contains every positive).

    Raises:
        ValueError: on an empty dataset or a corpus with a single distinct text.
    """
    if len(anchors) == 0:
        raise ValueError("The dataset is empty: mining needs at least one (anchor, positive) row.")
    texts = list(corpus) if corpus is not None else list(positives)
    corpus_list = list(dict.fromkeys(texts + list(positives)))
    if len(corpus_list) < 2:
        raise ValueError(
            f"The corpus holds {len(corpus_list)} distinct text after de-duplication, so there is nothing to "
            "mine negatives from. Pass a corpus with more distinct texts."
        )
    corpus_ids = {text: i for i, text in enumerate(corpus_list)}
    queries = list(dict.fromkeys(anchors))
    query_ids = {text: i for i, text in enumerate(queries)}
    positive_ids: list[list[int]] = [[] for _ in queries]
    for anchor, positive in zip(anchors, positives):
        ids = positive_ids[query_ids[anchor]]
        if corpus_ids[positive] not in ids:
            ids.append(corpus_ids[positive])
    max_positives = max(Counter(anchors).values())
    return Prepared(queries, corpus_list, positive_ids, max_positives, len(anchors))


def _embed(model: TextEncoder, texts: list[str], prompt: str | None, prompt_name: str | None,
           config: MiningConfig) -> Any:
    from crossrank.embedder import Embedder

    if isinstance(model, Embedder):
        return model.encode(
            texts, batch_size=config.batch_size, prompt=prompt, prompt_name=prompt_name,
            convert_to_numpy=False, cache_folder=config.cache_folder,
        )
    if not hasattr(model, "encode"):
        raise TypeError(f"model must be an Embedder, a model folder path or have .encode(); got {type(model)}.")
    return model.encode(
        texts, batch_size=config.batch_size, prompt=prompt, prompt_name=prompt_name,
        normalize_embeddings=True, convert_to_numpy=True,
    )


def check_embeddings(vectors: Any, texts: Sequence[str], what: str) -> torch.Tensor:
    """Return ``vectors`` as an L2-normalised float32 tensor; raise when any row is NaN or infinite."""
    tensor = torch.as_tensor(np.asarray(vectors, dtype=np.float32) if not torch.is_tensor(vectors) else vectors)
    tensor = tensor.float()
    bad = (~torch.isfinite(tensor).all(dim=1)).nonzero().flatten().tolist()
    if bad:
        examples = ", ".join(repr(texts[i][:60]) for i in bad[:3])
        raise ValueError(
            f"{len(bad)} {what} embedding(s) contain NaN or inf (e.g. {examples}). Check the model weights and "
            "dtype (fp16 overflow), or remove those texts."
        )
    return torch.nn.functional.normalize(tensor, p=2, dim=1)


def encode(model: EmbeddingModel, prepared: Prepared, config: MiningConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Embed the unique queries and the corpus; returns normalised ``(queries, corpus)`` tensors."""
    if isinstance(model, str | os.PathLike):
        from crossrank.embedder import Embedder

        model = Embedder(os.fspath(model))
    corpus_vectors = _embed(model, prepared.corpus, config.corpus_prompt, config.corpus_prompt_name, config)
    query_vectors = _embed(model, prepared.queries, config.query_prompt, config.query_prompt_name, config)
    return (
        check_embeddings(query_vectors, prepared.queries, "query"),
        check_embeddings(corpus_vectors, prepared.corpus, "corpus"),
    )


def search_candidates(
    query_emb: torch.Tensor, corpus_emb: torch.Tensor, range_max: int, max_positives: int, config: MiningConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """Retrieve ``candidate_count(range_max, max_positives)`` neighbours per query."""
    k = candidate_count(range_max, max_positives)
    backend = "faiss" if config.use_faiss else "exact"
    return search(query_emb, corpus_emb, k, backend, config.faiss_batch_size, config.faiss_index)


def positive_scores(query_emb: torch.Tensor, corpus_emb: torch.Tensor, prepared: Prepared) -> torch.Tensor:
    """Similarity of every (query, positive) row, grouped by query."""
    rows = torch.tensor(prepared.row_queries, dtype=torch.long)
    docs = torch.tensor(prepared.row_positives, dtype=torch.long)
    return (query_emb[rows] * corpus_emb[docs]).sum(dim=1)


def rescore(
    cross_encoder: PairScorer, prepared: Prepared, indices: torch.Tensor, batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Score every candidate and every positive with ``cross_encoder`` in one batched call.

    Returns:
        ``(candidate_scores (Q, k), positive_scores (rows,))``; padded candidates (index ``-1``) get ``-inf``.
    """
    flat = indices.tolist()
    pairs = [(prepared.queries[q], prepared.corpus[d]) for q, row in enumerate(flat) for d in row if d >= 0]
    rows = prepared.row_queries
    pairs += [(prepared.queries[q], prepared.corpus[p]) for q, p in zip(rows, prepared.row_positives)]
    predicted = torch.as_tensor(np.asarray(cross_encoder.predict(pairs, batch_size=batch_size)), dtype=torch.float32)
    if predicted.shape != (len(pairs),):
        raise ValueError(f"cross_encoder.predict must return one score per pair ({len(pairs)}), got {predicted.shape}.")
    valid = indices >= 0
    scores = torch.full(indices.shape, NEG_INF)
    n_candidates = int(valid.sum())
    scores[valid] = predicted[:n_candidates]
    return scores, predicted[n_candidates:]


def hardest_positive(pos_scores: torch.Tensor, prepared: Prepared) -> torch.Tensor:
    """Per query, the lowest positive score (the margin reference)."""
    counts = [len(ids) for ids in prepared.positive_ids]
    return torch.stack([chunk.min() for chunk in torch.split(pos_scores, counts)])


def filter_candidates(
    scores: torch.Tensor,
    indices: torch.Tensor,
    pos_scores: torch.Tensor,
    prepared: Prepared,
    config: MiningConfig,
) -> tuple[torch.Tensor, dict[str, tuple[int, float]]]:
    """Disqualify candidates by setting their score to ``-inf``.

    Order: padding, positives (unless ``include_positives``), ``absolute_margin`` then ``relative_margin``
    (both against each query's hardest positive), ``max_score``, ``min_score``.

    Returns:
        ``(scores, skipped)``: a filtered copy and, per active filter that removed something, ``(count,
        ratio)``. Only still-eligible candidates are counted; the ratio's denominator is every searched slot
        minus what the margins already removed (as the reference reports it).
    """
    scores = scores.clone()
    scores[indices < 0] = NEG_INF
    if not config.include_positives:
        for q, ids in enumerate(prepared.positive_ids):
            scores[q, torch.isin(indices[q], torch.tensor(ids))] = NEG_INF
    total = scores.numel()
    skipped: dict[str, tuple[int, float]] = {}
    floor = hardest_positive(pos_scores, prepared).unsqueeze(1) if config.absolute_margin is not None or (
        config.relative_margin is not None
    ) else None
    rules: list[tuple[str, Any]] = [
        ("absolute_margin", None if config.absolute_margin is None else
         lambda s: s + config.absolute_margin > floor),
        ("relative_margin", None if config.relative_margin is None else
         lambda s: s > floor - floor.abs() * config.relative_margin),
        ("max_score", None if config.max_score is None else lambda s: s > config.max_score),
        ("min_score", None if config.min_score is None else lambda s: s < config.min_score),
    ]
    for name, rule in rules:
        if rule is None:
            continue
        removed = rule(scores) & torch.isfinite(scores)
        count = int(removed.sum())
        scores[removed] = NEG_INF
        if count:
            skipped[name] = (count, count / max(total, 1))
        if name.endswith("margin"):
            total -= count
    return scores, skipped


def select_negatives(
    scores: torch.Tensor, indices: torch.Tensor, range_max: int, config: MiningConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each row (stable, descending), keep ``range_max``, skip ``range_min``, then sample.

    ``top`` keeps the first ``num_negatives``. ``random`` draws ``num_negatives`` positions with a
    ``random.Random(seed)`` from the finite candidates (or from the first ``num_negatives`` positions when
    fewer survive), then re-sorts them by score.

    Returns:
        ``(negative_scores, negative_indices)`` of shape ``(Q, num_negatives)``; ``-inf`` marks a missing one.
    """
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :range_max]
    scores = torch.gather(scores, 1, order)[:, config.range_min :]
    indices = torch.gather(indices, 1, order)[:, config.range_min :]
    n = config.num_negatives
    if config.sampling_strategy == "top":
        return scores[:, :n], indices[:, :n]
    rng = random.Random(config.seed)
    options = (scores.size(1) - torch.isinf(scores).sum(dim=1)).clamp(min=n).tolist()
    picks = torch.tensor([sorted(rng.sample(range(k), n)) for k in options], dtype=torch.long)
    scores, indices = torch.gather(scores, 1, picks), torch.gather(indices, 1, picks)
    resort = torch.sort(scores, dim=1, descending=True, stable=True).indices
    return torch.gather(scores, 1, resort), torch.gather(indices, 1, resort)


@dataclass
class Formatted:
    """Output columns plus the score arrays the statistics are computed from."""

    columns: dict[str, list[Any]]
    negative_scores: list[float]
    differences: list[float]
    max_rows: int


def format_rows(
    prepared: Prepared,
    pos_scores: torch.Tensor,
    neg_scores: torch.Tensor,
    neg_indices: torch.Tensor,
    anchor: str,
    positive: str,
    config: MiningConfig,
) -> Formatted:
    """Lay mined negatives out in ``config.output_format`` (see :func:`mine_hard_negatives`)."""
    builders = {"triplet": _triplets, "n-tuple": _tuples, "labeled-pair": _labeled_pairs, "labeled-list": _lists}
    q_text, corpus = prepared.queries, prepared.corpus
    rows = [
        (q_text[q], corpus[p], ps, [(corpus[d], s) for d, s in zip(idx, sc) if s != NEG_INF], len(idx))
        for q, p, ps, idx, sc in _rows(prepared, pos_scores, neg_scores, neg_indices)
    ]
    return builders[config.output_format](rows, prepared, anchor, positive, config)


def _rows(prepared: Prepared, pos_scores: torch.Tensor, neg_scores: torch.Tensor, neg_indices: torch.Tensor) -> Any:
    scores, ids, positives = neg_scores.tolist(), neg_indices.tolist(), pos_scores.tolist()
    for r, (q, p) in enumerate(zip(prepared.row_queries, prepared.row_positives)):
        yield q, p, positives[r], ids[q], scores[q]


def _stats_lists(rows: list[Any]) -> tuple[list[float], list[float]]:
    negatives = [s for *_, negs, _ in rows for _, s in negs]
    differences = [ps - s for _, _, ps, negs, _ in rows for _, s in negs]
    return negatives, differences


def _triplets(rows: list[Any], prepared: Prepared, anchor: str, positive: str, cfg: MiningConfig) -> Formatted:
    cols: dict[str, list[Any]] = {anchor: [], positive: [], "negative": []}
    if cfg.output_scores:
        cols["scores"] = []
    for query, pos, ps, negs, _ in rows:
        for doc, score in negs:
            cols[anchor].append(query)
            cols[positive].append(pos)
            cols["negative"].append(doc)
            if cfg.output_scores:
                cols["scores"].append([ps, score])
    negatives, differences = _stats_lists(rows)
    return Formatted(cols, negatives, differences, len(rows) * cfg.num_negatives)


def _tuples(rows: list[Any], prepared: Prepared, anchor: str, positive: str, cfg: MiningConfig) -> Formatted:
    full = [row for row in rows if len(row[3]) == row[4]]
    cols: dict[str, list[Any]] = {anchor: [r[0] for r in full], positive: [r[1] for r in full]}
    for j in range(cfg.num_negatives):
        cols[f"negative_{j + 1}"] = [r[3][j][0] for r in full]
    if cfg.output_scores:
        cols["scores"] = [[r[2]] + [s for _, s in r[3]] for r in full]
    negatives, differences = _stats_lists(full)
    return Formatted(cols, negatives, differences, len(rows))


def _labeled_pairs(rows: list[Any], prepared: Prepared, anchor: str, positive: str, cfg: MiningConfig) -> Formatted:
    target = "score" if cfg.output_scores else "label"
    cols: dict[str, list[Any]] = {anchor: [], positive: [], target: []}

    def add(query: str, doc: str, label: int, score: float) -> None:
        cols[anchor].append(query)
        cols[positive].append(doc)
        cols[target].append(score if cfg.output_scores else label)

    start = 0
    for ids in prepared.positive_ids:
        group = rows[start : start + len(ids)]
        start += len(ids)
        for query, pos, ps, _, _ in group:
            add(query, pos, 1, ps)
        for doc, score in group[0][3]:
            add(group[0][0], doc, 0, score)
    negatives, differences = _stats_lists(rows)
    return Formatted(cols, negatives, differences, len(prepared.queries) * cfg.num_negatives + prepared.n_rows)


def _lists(rows: list[Any], prepared: Prepared, anchor: str, positive: str, cfg: MiningConfig) -> Formatted:
    kept = [row for row in rows if row[3]]
    target = "scores" if cfg.output_scores else "labels"
    cols: dict[str, list[Any]] = {
        anchor: [r[0] for r in kept],
        positive: [[r[1]] + [doc for doc, _ in r[3]] for r in kept],
        target: [
            [r[2]] + [s for _, s in r[3]] if cfg.output_scores else [1] + [0] * len(r[3]) for r in kept
        ],
    }
    negatives, differences = _stats_lists(rows)
    return Formatted(cols, negatives, differences, len(rows))


def _rescoring_active(cross_encoder: PairScorer | None, config: MiningConfig) -> bool:
    return cross_encoder is not None and (config.has_filters or config.min_score is not None)


def _normalize_formats(config: MiningConfig) -> None:
    if config.include_positives and config.output_format != "n-tuple":
        logger.warning("include_positives=True keeps the retrieval order, so output_format is set to 'n-tuple'.")
        config.output_format = "n-tuple"


def mine_embeddings(
    query_emb: torch.Tensor,
    corpus_emb: torch.Tensor,
    prepared: Prepared,
    config: MiningConfig,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, tuple[int, float]]]:
    """Search → filter → select on precomputed, normalised embeddings (no text encoding, no formatting).

    Args:
        query_emb: ``(Q, D)`` embeddings of ``prepared.queries``.
        corpus_emb: ``(N, D)`` embeddings of ``prepared.corpus``.
        prepared: queries, corpus and positives (see :func:`prepare`); the texts themselves are not read.
        config: the mining settings.

    Returns:
        ``(negative_scores (Q, n), negative_indices (Q, n), positive_scores (rows,), skipped)``.
    """
    range_max = resolve_range_max(config, prepared.max_positives)
    scores, indices = search_candidates(query_emb, corpus_emb, range_max, prepared.max_positives, config)
    pos_scores = positive_scores(query_emb, corpus_emb, prepared)
    scores, skipped = filter_candidates(scores, indices, pos_scores, prepared, config)
    neg_scores, neg_indices = select_negatives(scores, indices, range_max, config)
    return neg_scores, neg_indices, pos_scores, skipped


def mine(
    dataset: Dataset,
    model: EmbeddingModel,
    config: MiningConfig,
    corpus: Sequence[str] | None = None,
    cross_encoder: PairScorer | None = None,
) -> MiningResult:
    """Run encode → search → filter → sample → format and return the dataset with its statistics.

    Args:
        dataset: (anchor, positive) rows; other columns are ignored.
        model: an :class:`~crossrank.embedder.Embedder`, a model folder, or any object with a
            Sentence-Transformers-style ``encode``.
        config: the mining settings.
        corpus: extra candidate documents (positives are always added).
        cross_encoder: optional rescoring model with ``predict(pairs, batch_size=...)``.

    Returns:
        A :class:`MiningResult`.
    """
    from datasets import Dataset

    _normalize_formats(config)
    anchor, positive = resolve_columns(dataset.column_names, config)
    if len(dataset) == 0:
        raise ValueError("The dataset is empty: mining needs at least one (anchor, positive) row.")
    prepared = prepare(
        _check_texts(dataset[anchor], anchor), _check_texts(dataset[positive], positive),
        None if corpus is None else _check_texts(list(corpus), "corpus"),
    )
    check_corpus_size(config, len(prepared.corpus), prepared.max_positives)
    rescoring = _rescoring_active(cross_encoder, config)
    range_max = resolve_range_max(config, prepared.max_positives, rescoring)
    if config.verbose:
        logger.info(
            "Mining %d unique queries (%d rows) against %d corpus texts, range_max=%d.",
            len(prepared.queries), prepared.n_rows, len(prepared.corpus), range_max,
        )
    query_emb, corpus_emb = encode(model, prepared, config)
    scores, indices = search_candidates(query_emb, corpus_emb, range_max, prepared.max_positives, config)
    pos_scores = positive_scores(query_emb, corpus_emb, prepared)
    del query_emb, corpus_emb
    if rescoring:
        assert cross_encoder is not None
        scores, pos_scores = rescore(cross_encoder, prepared, indices, config.batch_size)
    scores, skipped = filter_candidates(scores, indices, pos_scores, prepared, config)
    neg_scores, neg_indices = select_negatives(scores, indices, range_max, config)
    formatted = format_rows(prepared, pos_scores, neg_scores, neg_indices, anchor, positive, config)
    output = Dataset.from_dict(formatted.columns)
    names = ("absolute_margin", "relative_margin", "max_score", "min_score")
    settings = {name: getattr(config, name) for name in names}
    stats = compute_stats(
        pos_scores.tolist(), formatted.negative_scores, formatted.differences, skipped,
        len(output), formatted.max_rows, settings, config.range_min,
    )
    if config.verbose:
        logger.info("Hard-negative mining statistics:\n%s", stats.render())
    return MiningResult(output, stats, range_max)


def mine_hard_negatives(
    dataset: Dataset, model: EmbeddingModel, anchor_column_name: str | None = None,
    positive_column_name: str | None = None,
    corpus: Sequence[str] | None = None, cross_encoder: PairScorer | None = None, range_min: int = 0,
    range_max: int | None = None, max_score: float | None = None, min_score: float | None = None,
    absolute_margin: float | None = None, relative_margin: float | None = None, num_negatives: int = 3,
    sampling_strategy: str = "top", query_prompt_name: str | None = None, query_prompt: str | None = None,
    corpus_prompt_name: str | None = None, corpus_prompt: str | None = None, include_positives: bool = False,
    output_format: str = "triplet", output_scores: bool = False, batch_size: int = 32,
    faiss_batch_size: int | None = None, use_faiss: bool = False, use_multi_process: bool | list[str] = False,
    verbose: bool = True, cache_folder: str | None = None, as_triplets: bool | None = None,
    margin: float | None = None, seed: int = 12, faiss_index: str = "auto",
) -> Dataset:
    """Turn (anchor, positive) pairs into data with mined hard negatives (reference-compatible signature).

    Stages, filters, the automatic ``range_max`` and the output formats are described in the module
    docstring; every argument maps onto a :class:`~crossrank.mining.config.MiningConfig` field of the same
    name. Additionally: ``model`` is an :class:`~crossrank.embedder.Embedder`, a model folder or any object
    with a Sentence-Transformers-style ``encode``; ``corpus`` adds candidate documents (positives are always
    candidates); ``cross_encoder`` (``predict(pairs, batch_size=...)``) rescores candidates and positives
    when a filter is set; ``use_multi_process`` is accepted and ignored (one process, all torch threads);
    ``as_triplets`` and ``margin`` are deprecated aliases of ``output_format`` and ``absolute_margin``.

    Returns:
        The mined ``datasets.Dataset``.

    Raises:
        ValueError: on an empty dataset, an unknown format or strategy, a window that cannot hold
            ``num_negatives``, a corpus with fewer than two distinct texts, or NaN embeddings.
    """
    if as_triplets is not None:
        logger.warning("as_triplets is deprecated; use output_format='triplet' or 'n-tuple'.")
        output_format = "triplet" if as_triplets else "n-tuple"
    if margin is not None:
        logger.warning("margin is deprecated; use absolute_margin=%s.", margin)
        absolute_margin = margin
    if output_format == "n-tuple-scores":
        output_format, output_scores = "n-tuple", True
    if use_multi_process:
        logger.warning("use_multi_process is ignored: crossrank encodes in one process with all torch threads.")
    config = MiningConfig(
        anchor_column_name=anchor_column_name, positive_column_name=positive_column_name,
        range_min=range_min, range_max=range_max, max_score=max_score, min_score=min_score,
        absolute_margin=absolute_margin, relative_margin=relative_margin, num_negatives=num_negatives,
        sampling_strategy=sampling_strategy,  # type: ignore[arg-type]
        seed=seed, query_prompt_name=query_prompt_name, query_prompt=query_prompt,
        corpus_prompt_name=corpus_prompt_name, corpus_prompt=corpus_prompt, include_positives=include_positives,
        output_format=output_format,  # type: ignore[arg-type]
        output_scores=output_scores, batch_size=batch_size, faiss_batch_size=faiss_batch_size,
        use_faiss=use_faiss, faiss_index=faiss_index,  # type: ignore[arg-type]
        cache_folder=cache_folder, verbose=verbose,
    )
    return mine(dataset, model, config, corpus=corpus, cross_encoder=cross_encoder).dataset
