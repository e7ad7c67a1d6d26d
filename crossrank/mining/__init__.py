"""Hard-negative mining: embed, search, filter, sample and format (query, positive) pairs.

Public entry points: :func:`mine_hard_negatives` (reference-compatible signature), :func:`mine` (config
in, dataset and statistics out), :class:`MiningConfig` and the search back ends. Mining from a YAML
section or the command line is ``crossrank.pipeline.mine``.
"""

from __future__ import annotations

from crossrank.mining.config import MiningConfig
from crossrank.mining.hard_negatives import MiningResult, mine, mine_hard_negatives
from crossrank.mining.search import candidate_count, search
from crossrank.mining.stats import MiningStats

__all__ = [
    "MiningConfig",
    "MiningResult",
    "MiningStats",
    "candidate_count",
    "mine",
    "mine_hard_negatives",
    "search",
]
