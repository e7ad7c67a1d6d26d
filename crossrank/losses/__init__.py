"""Losses for training rerankers; each is a pure function of a (B, G) score grid (see ``base``)."""

from __future__ import annotations

from crossrank.data.columns import register_input_format
from crossrank.losses.base import RerankLoss
from crossrank.losses.contrastive import CachedMultipleNegativesRankingLoss, MultipleNegativesRankingLoss
from crossrank.losses.lambda_loss import (
    BaseWeightingScheme,
    LambdaLoss,
    LambdaRankScheme,
    NDCGLoss1Scheme,
    NDCGLoss2PPScheme,
    NDCGLoss2Scheme,
    NoWeightingScheme,
)
from crossrank.losses.listwise import ADRMSELoss, ListMLELoss, ListNetLoss, PListMLELambdaWeight, PListMLELoss
from crossrank.losses.pairwise import MarginMSELoss, RankNetLoss
from crossrank.losses.pointwise import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss

__all__ = [
    "RerankLoss",
    "BinaryCrossEntropyLoss",
    "CrossEntropyLoss",
    "MSELoss",
    "MarginMSELoss",
    "RankNetLoss",
    "LambdaLoss",
    "BaseWeightingScheme",
    "NoWeightingScheme",
    "NDCGLoss1Scheme",
    "NDCGLoss2Scheme",
    "LambdaRankScheme",
    "NDCGLoss2PPScheme",
    "ListNetLoss",
    "ListMLELoss",
    "PListMLELoss",
    "PListMLELambdaWeight",
    "ADRMSELoss",
    "MultipleNegativesRankingLoss",
    "CachedMultipleNegativesRankingLoss",
]

for _name in __all__:
    _cls = globals()[_name]
    if issubclass(_cls, RerankLoss) and _cls is not RerankLoss:  # validation errors name these as alternatives
        register_input_format(_name, _cls.input_format)
