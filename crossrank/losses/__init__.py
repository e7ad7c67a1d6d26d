"""Losses for training rerankers; each is a pure function of a (B, G) score grid (see ``base``)."""

from __future__ import annotations

from crossrank.losses.base import RerankLoss
from crossrank.losses.pointwise import BinaryCrossEntropyLoss

__all__ = ["RerankLoss", "BinaryCrossEntropyLoss"]
