"""Prometheus metrics of one server: requests by route and status, queue depth, batches and inference time.

Each app owns its registry (several apps in one process do not share counters); ``GET /metrics``
renders it in the Prometheus text format.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
TOKEN_BUCKETS = (64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServerMetrics:
    """The collectors of one server; pass ``registry`` to export into a registry of your own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        self.requests = Counter("crossrank_requests", "HTTP requests by route and status.",
                                ["route", "status"], registry=reg)
        self.request_duration = Histogram("crossrank_request_duration_seconds",
                                          "Time from request start to response, by route and status.",
                                          ["route", "status"], buckets=LATENCY_BUCKETS, registry=reg)
        self.in_flight = Gauge("crossrank_requests_in_flight", "Rerank requests admitted and not yet answered.",
                               registry=reg)
        self.queue_pairs = Gauge("crossrank_queue_pairs", "Pairs waiting for the inference worker.", registry=reg)
        self.queue_requests = Gauge("crossrank_queue_requests", "Requests with pairs the worker has not taken yet.",
                                    registry=reg)
        self.batch_pairs = Histogram("crossrank_batch_pairs", "Pairs in one forward pass.",
                                     buckets=BATCH_BUCKETS, registry=reg)
        self.batch_tokens = Histogram("crossrank_batch_tokens", "Padded tokens (pairs x longest) in one forward pass.",
                                      buckets=TOKEN_BUCKETS, registry=reg)
        self.inference_duration = Histogram("crossrank_inference_duration_seconds",
                                            "Time of one forward pass.", buckets=LATENCY_BUCKETS, registry=reg)
        self.pairs_scored = Counter("crossrank_pairs_scored", "(query, document) pairs scored.", registry=reg)
        self.truncated_pairs = Counter("crossrank_truncated_pairs", "Pairs cut to fit a token limit.", registry=reg)
        self.inference_failures = Counter("crossrank_inference_failures", "Forward passes that raised.",
                                          registry=reg)

    def render(self) -> bytes:
        return generate_latest(self.registry)
