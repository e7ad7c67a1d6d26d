"""crossrank: train, finetune, evaluate and serve reranker (cross-encoder) models.

The top-level namespace is small and lazy: heavy modules (torch, transformers) load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from crossrank.version import __version__ as __version__

_LAZY: dict[str, str] = {
    "CrossEncoder": "crossrank.model",
    "Embedder": "crossrank.embedder",
    "Trainer": "crossrank.training.trainer",
    "TrainingArguments": "crossrank.training.args",
    "ModelCardData": "crossrank.model_card",
    "mine_hard_negatives": "crossrank.mining.hard_negatives",
    "fit": "crossrank.fit",
    "export_onnx": "crossrank.export",
    "losses": "crossrank.losses",
    "evaluation": "crossrank.evaluation",
}

__all__ = list(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from crossrank import evaluation, losses  # noqa: F401
    from crossrank.model import CrossEncoder  # noqa: F401
    from crossrank.training.args import TrainingArguments  # noqa: F401
    from crossrank.training.trainer import Trainer  # noqa: F401


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'crossrank' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if module.__name__.endswith(name) else getattr(module, name)
    globals()[name] = value
    return value
