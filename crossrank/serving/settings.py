"""What a rerank server is allowed to do: its address, its limits and how it batches, in one frozen object.

The names follow Text Embeddings Inference (``max_batch_tokens``, ``max_client_batch_size``,
``max_concurrent_requests``, ``payload_limit``, ``auto_truncate``) so that ``GET /info`` reports them
under the names TEI clients read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ServerSettings:
    """Limits and batching of a rerank server.

    Attributes:
        host: Address to bind; ``127.0.0.1`` keeps the server on this machine.
        port: TCP port.
        api_key: When set, every route but ``/health`` needs ``Authorization: Bearer <api_key>``.
        max_batch_tokens: Padded tokens (pairs × longest pair) allowed in one forward pass.
        batch_size: Pairs allowed in one forward pass (the same knob as ``predict(batch_size=...)``).
        chunk_size: A request of more than ``batch_size`` pairs is served ``chunk_size`` pairs a scheduling
            round, interleaved with the other requests waiting (smaller ones go whole into the next round).
            Small chunks keep a short request from waiting behind a long one (it waits for at most the
            running round); a large request alone runs in batches of this size, so raise it when large
            requests come one at a time and the latency of short ones matters less.
        max_wait_ms: How long an idle worker waits for more requests before it starts a round.
        batch_overhead_tokens: The cost of one more forward pass, in padded tokens: a round's pairs are cut
            into the batches with the least padded tokens plus this per batch, so a round of a few requests
            of mixed lengths runs in tighter batches than fixed ``batch_size`` cuts. None (default): the
            backend's own (``Backend.batch_overhead_tokens``: eager torch pays far more per call than ONNX
            Runtime); 0 turns it off (fixed cuts, as ``predict``).
        max_client_batch_size: Most documents one request may send (413 above it).
        max_concurrent_requests: Requests admitted at once, queued or running (429 above it).
        payload_limit: Largest request body in bytes (413 above it).
        max_tokens_per_doc: Default token cap per document when a request sends none (None: only the
            model's ``max_length`` applies).
        auto_truncate: What TEI's ``truncate: null`` means; Cohere routes always truncate (reported).
        retry_after_s: The ``Retry-After`` header of a 429.
        drain_timeout_s: On SIGTERM, how long in-flight requests may take to finish before exit.
        workers: Server processes (each loads the model); only ``crossrank serve`` uses it.
        model_id: The model name reported in ``/info`` and responses; defaults to the model's path.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    api_key: str | None = None
    max_batch_tokens: int = 16384
    batch_size: int = 32
    chunk_size: int = 8
    max_wait_ms: float = 2.0
    batch_overhead_tokens: int | None = None
    max_client_batch_size: int = 1000
    max_concurrent_requests: int = 512
    payload_limit: int = 2_000_000
    max_tokens_per_doc: int | None = None
    auto_truncate: bool = True
    retry_after_s: int = 1
    drain_timeout_s: float = 30.0
    workers: int = 1
    model_id: str | None = None

    def __post_init__(self) -> None:
        positive = ("port", "max_batch_tokens", "batch_size", "chunk_size", "max_client_batch_size",
                    "max_concurrent_requests", "payload_limit", "retry_after_s", "workers")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer; found {value!r}.")
        if self.max_tokens_per_doc is not None and self.max_tokens_per_doc < 1:
            raise ValueError(f"max_tokens_per_doc must be a positive integer or None; found {self.max_tokens_per_doc}.")
        overhead = self.batch_overhead_tokens
        if overhead is not None and (not isinstance(overhead, int) or overhead < 0):
            raise ValueError(f"batch_overhead_tokens must be an integer >= 0 or None; found {overhead!r}.")
        if self.max_wait_ms < 0 or self.drain_timeout_s < 0:
            raise ValueError("max_wait_ms and drain_timeout_s must be zero or more; "
                             f"found {self.max_wait_ms} and {self.drain_timeout_s}.")
        if self.api_key == "":
            raise ValueError("api_key is empty; pass a non-empty key or None to serve without one.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServerSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown server settings {unknown}; known: {sorted(known)}.")
        return cls(**data)
