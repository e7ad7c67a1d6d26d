"""The base of every request model: strict types (``"5"`` is not an int), unknown fields ignored.

Clients send fields this server has no use for (``model``, ``priority``, ``relevant_spans``,
``max_chunks_per_doc``) and explicit nulls for optional ones; both are accepted.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RequestModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    first_stage_scores: list[float] | None = Field(
        None, description="The retriever's score of each document; fused with the reranker's score "
                          "using the fusion weight stored with the model.")
