"""Warm start: a fresh cross-encoder learns the first stage's ranking (no labels) before supervised training.

Entry point: :func:`warm_start` with a :class:`WarmStartConfig`; see ``stage`` for the flow,
``pseudo_queries`` / ``teachers`` / ``lists`` / ``head_init`` for the parts. Names load lazily, so reading a
config (``WarmStartConfig``) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "BM25Teacher": "crossrank.warm_start.teachers",
    "EmbedderTeacher": "crossrank.warm_start.teachers",
    "HybridTeacher": "crossrank.warm_start.teachers",
    "Teacher": "crossrank.warm_start.teachers",
    "PseudoQuery": "crossrank.warm_start.pseudo_queries",
    "make_pseudo_queries": "crossrank.warm_start.pseudo_queries",
    "TeacherList": "crossrank.warm_start.lists",
    "build_teacher_lists": "crossrank.warm_start.lists",
    "teacher_targets": "crossrank.warm_start.lists",
    "TeacherScorer": "crossrank.warm_start.teacher_scorer",
    "WarmStartConfig": "crossrank.warm_start.config",
    "WarmStartReport": "crossrank.warm_start.stage",
    "make_teacher": "crossrank.warm_start.stage",
    "training_queries": "crossrank.warm_start.stage",
    "warm_start": "crossrank.warm_start.stage",
    "ResidualLoss": "crossrank.warm_start.residual",
    "with_first_stage": "crossrank.warm_start.residual",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from crossrank.warm_start.config import WarmStartConfig  # noqa: F401
    from crossrank.warm_start.lists import TeacherList, build_teacher_lists, teacher_targets  # noqa: F401
    from crossrank.warm_start.pseudo_queries import PseudoQuery, make_pseudo_queries  # noqa: F401
    from crossrank.warm_start.residual import ResidualLoss, with_first_stage  # noqa: F401
    from crossrank.warm_start.stage import WarmStartReport, make_teacher, training_queries, warm_start  # noqa: F401
    from crossrank.warm_start.teacher_scorer import TeacherScorer  # noqa: F401
    from crossrank.warm_start.teachers import BM25Teacher, EmbedderTeacher, HybridTeacher, Teacher  # noqa: F401


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'crossrank.warm_start' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
