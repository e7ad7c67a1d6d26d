"""What crossrank's functions need from a model, as protocols: score pairs, or embed texts.

``CrossEncoder`` is a :class:`PairScorer` and ``Embedder`` a :class:`TextEncoder`; so is any object with
the same method (a fake model in a test, an ONNX-backed scorer, a Sentence Transformers model), which is
what evaluators, mining and the first-stage retrievers accept.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class PairScorer(Protocol):
    """Scores (query, document) pairs: ``predict(pairs, batch_size=..., ...)`` -> one score (or row) per pair.

    Evaluators call it with ``convert_to_numpy=True`` and ``show_progress_bar=...``; they read the optional
    attributes ``activation_fn`` and ``fusion`` when present, and with a fusion they take raw logits from
    ``logits(pairs, batch_size=..., show_progress_bar=...)`` (``(N, 1)``, no activation) instead.
    """

    def predict(self, pairs: list[tuple[str, str]], batch_size: int = 32, **kwargs: Any) -> Any: ...


@runtime_checkable
class TextEncoder(Protocol):
    """Embeds texts: ``encode(texts, ...)`` -> an ``(n, dim)`` array (or tensor) of vectors."""

    def encode(self, texts: Sequence[str], **kwargs: Any) -> Any: ...


EmbeddingModel = TextEncoder | str | os.PathLike[str]
"""An embedder (``Embedder`` or anything with ``encode``), a model folder, or ``package:NAME``."""
