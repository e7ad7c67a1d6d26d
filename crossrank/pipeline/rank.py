"""``crossrank rank``: order documents for one query with a saved reranker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def rank_documents(model_path: str, query: str, documents: Sequence[str], top_k: int | None = None,
                   batch_size: int = 32, max_length: int | None = None, **model_kwargs: Any) -> list[dict[str, Any]]:
    """Load the reranker and return ``[{corpus_id, score, text}]``, best first (``CrossEncoder.rank``).

    ``model_kwargs`` go to ``CrossEncoder`` (e.g. ``backend="onnx", file_name=...``).
    """
    from crossrank.model import CrossEncoder

    model = CrossEncoder(model_path, max_length=max_length, **model_kwargs)
    return model.rank(query, list(documents), top_k=top_k, return_documents=True, batch_size=batch_size)
