"""Text Embeddings Inference's rerank API: ``POST /rerank`` and ``GET /info``.

Request: ``query, texts, raw_scores, return_text, truncate, truncation_direction`` (``Left``/``Right``,
any case). ``truncate: null`` means the server's ``auto_truncate``. Response: a list of
``{index, score[, text]}``, every input present, best first. ``raw_scores: true`` gives logits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import field_validator

from crossrank.serving.schemas.base import RequestModel
from crossrank.serving.settings import ServerSettings


class TeiRerankRequest(RequestModel):
    query: str
    texts: list[str]
    raw_scores: bool | None = None
    return_text: bool | None = None
    truncate: bool | None = None
    truncation_direction: Literal["left", "right"] | None = None

    @field_validator("truncation_direction", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


def rerank_response(order: Sequence[int], scores: Sequence[float], texts: Sequence[str] | None) -> list[dict[str, Any]]:
    out = []
    for i in order:
        item: dict[str, Any] = {"index": int(i), "score": float(scores[i])}
        if texts is not None:
            item["text"] = texts[i]
        out.append(item)
    return out


def info(settings: ServerSettings, model: Mapping[str, Any], version: str) -> dict[str, Any]:
    """``GET /info`` with TEI's field names, plus crossrank's own limits after them."""
    return {
        "model_id": model["model_id"],
        "model_sha": None,
        "model_dtype": model["dtype"],
        "model_type": {"reranker": {"id2label": model["id2label"], "label2id": model["label2id"]}},
        "max_concurrent_requests": settings.max_concurrent_requests,
        "max_input_length": model["max_input_length"],
        "max_batch_tokens": settings.max_batch_tokens,
        "max_batch_requests": None,
        "max_client_batch_size": settings.max_client_batch_size,
        "auto_truncate": settings.auto_truncate,
        "tokenization_workers": 1,
        "version": version,
        "sha": None,
        "docker_label": None,
        "backend": model["backend"],
        "payload_limit": settings.payload_limit,
        "max_tokens_per_doc": settings.max_tokens_per_doc,
        "batch_size": settings.batch_size,
        "chunk_size": settings.chunk_size,
        "max_wait_ms": settings.max_wait_ms,
        "api_key_required": settings.api_key is not None,
    }
