"""Warm start: a fresh cross-encoder learns the first stage's ranking (no labels) before supervised training.

Entry point: :func:`warm_start` with a :class:`WarmStartConfig`; see ``stage`` for the flow,
``pseudo_queries`` / ``teachers`` / ``lists`` for the parts.
"""

from __future__ import annotations

from crossrank.warm_start.config import WarmStartConfig
from crossrank.warm_start.lists import TeacherList, build_teacher_lists, teacher_targets
from crossrank.warm_start.pseudo_queries import PseudoQuery, make_pseudo_queries
from crossrank.warm_start.stage import WarmStartReport, make_teacher, training_queries, warm_start
from crossrank.warm_start.teacher_scorer import TeacherScorer
from crossrank.warm_start.teachers import BM25Teacher, EmbedderTeacher, HybridTeacher, Teacher

__all__ = [
    "BM25Teacher",
    "EmbedderTeacher",
    "HybridTeacher",
    "PseudoQuery",
    "Teacher",
    "TeacherList",
    "TeacherScorer",
    "WarmStartConfig",
    "WarmStartReport",
    "build_teacher_lists",
    "make_pseudo_queries",
    "make_teacher",
    "teacher_targets",
    "training_queries",
    "warm_start",
]
