"""Training: ``TrainingArguments`` and ``Trainer``, thin subclasses of the ``transformers`` ones."""

from __future__ import annotations

from crossrank.training.args import TrainingArguments
from crossrank.training.trainer import Trainer

__all__ = ["TrainingArguments", "Trainer"]
