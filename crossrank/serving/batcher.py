"""Dynamic batching: one inference thread scores the pairs of all concurrent requests in shared batches.

Requests hand in their encoded pairs (``ScoringEngine.encode``). The worker works in rounds: each
round takes every request waiting, in arrival order: a request of at most ``batch_size`` pairs whole,
a larger one by its next chunk (``chunk_size`` pairs, longest first); it merges them, lets
``engine.plan`` cut the merged pairs into length-sorted batches under the token budget (where padding plus
a per-batch overhead is least: a round of a few short requests pads far less that way), and runs them
with ``engine.run``. A request is answered as soon as its last pair is
scored. A 1,000-document request thus advances one chunk per round while a 10-document request that
arrives meanwhile is done in the next round, instead of waiting behind the whole large request.

When the worker is idle, the first request waits up to ``max_wait_s`` for company (or until a full
batch of pairs is waiting), so that concurrent requests share batches from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Any

import numpy as np

from crossrank.inference.batching import length_order
from crossrank.serving.metrics import ServerMetrics

logger = logging.getLogger(__name__)


class _Job:
    """One request's pairs: the order they are served in, how far that got, and the logits so far."""

    __slots__ = ("encoded", "order", "cursor", "remaining", "logits", "future")

    def __init__(self, encoded: Any, num_labels: int, future: Future[np.ndarray]) -> None:
        self.encoded = encoded
        self.order = length_order(encoded.lengths)
        self.cursor = 0
        self.remaining = len(self.order)
        self.logits = np.empty((len(self.order), num_labels), dtype=np.float32)
        self.future = future

    def pending(self) -> int:
        return len(self.order) - self.cursor


def merge_rows(parts: list[tuple[_Job, np.ndarray]]) -> tuple[Any, list[tuple[_Job, np.ndarray]]]:
    """One EncodedPairs holding ``rows`` of each job, in order; returns it with the same ``parts``."""
    first = parts[0][0].encoded
    features = {key: [job.encoded.features[key][i] for job, rows in parts for i in rows] for key in first.features}
    lengths = np.concatenate([np.asarray(job.encoded.lengths)[rows] for job, rows in parts])
    truncated = np.concatenate([np.asarray(job.encoded.truncated)[rows] for job, rows in parts])
    return type(first)(features=features, lengths=lengths, truncated=truncated), parts


class DynamicBatcher:
    """Merges the pairs of concurrent requests into shared, length-sorted batches on one worker thread.

    Args:
        engine: A ``ScoringEngine`` (``encode``/``plan``/``run``, ``num_labels``).
        batch_size: Most pairs in one forward pass.
        max_batch_tokens: Most padded tokens in one forward pass.
        chunk_size: Pairs a request contributes to one round.
        max_wait_s: How long an idle worker waits for more requests before it starts.
        metrics: Where queue depth, batch sizes and inference time are recorded.
        batch_overhead: Cost of one more forward pass in padded tokens: a round is cut into the batches with
            the least padding plus this per batch (None: fixed ``batch_size`` cuts).
    """

    def __init__(self, engine: Any, batch_size: int = 32, max_batch_tokens: int = 16384, chunk_size: int = 8,
                 max_wait_s: float = 0.002, metrics: ServerMetrics | None = None,
                 batch_overhead: int | None = None) -> None:
        self.engine = engine
        self.batch_overhead = batch_overhead
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.chunk_size = chunk_size
        self.max_wait_s = max_wait_s
        self.metrics = metrics
        self._jobs: list[_Job] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the batcher is already running.")
        self._thread = threading.Thread(target=self._loop, name="crossrank-inference", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Finish the pairs already submitted, then end the worker. True when it ended within ``timeout``."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    # ---------------------------------------------------------------- submitting
    def submit(self, encoded: Any) -> Future[np.ndarray]:
        """Queue encoded pairs; the future gives their logits (N, num_labels) in input order."""
        future: Future[np.ndarray] = Future()
        if len(encoded.lengths) == 0:
            future.set_result(np.empty((0, int(self.engine.num_labels)), dtype=np.float32))
            return future
        job = _Job(encoded, int(self.engine.num_labels), future)
        with self._cond:
            if self._stopping or self._thread is None:
                raise RuntimeError("the inference worker is not running (stopped or never started).")
            self._jobs.append(job)
            self._cond.notify_all()
        self._record_queue()
        return future

    async def score(self, encoded: Any) -> np.ndarray:
        """``submit`` for asyncio callers; cancelling the await drops the request's pairs not yet run."""
        return await asyncio.wrap_future(self.submit(encoded))

    # ---------------------------------------------------------------- worker
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if not self._jobs:
                    return
                self._wait_for_company()
                parts = self._take_round()
            self._record_queue()
            if parts:
                self._run_round(parts)

    def _wait_for_company(self) -> None:
        """Called with the lock held: give concurrent requests ``max_wait_s`` to join the first round."""
        deadline = time.monotonic() + self.max_wait_s
        while sum(job.pending() for job in self._jobs) < self.batch_size and not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _take_round(self) -> list[tuple[_Job, np.ndarray]]:
        """Called with the lock held: every live request (a large one by a chunk); finished ones leave."""
        parts = []
        for job in self._jobs:
            if job.future.cancelled():
                continue
            take = len(job.order) if len(job.order) <= self.batch_size else self.chunk_size
            rows = job.order[job.cursor: job.cursor + take]
            job.cursor += len(rows)
            parts.append((job, rows))
        self._jobs = [job for job in self._jobs if job.pending() and not job.future.cancelled()]
        return parts

    def _run_round(self, parts: list[tuple[_Job, np.ndarray]]) -> None:
        merged, parts = merge_rows(parts)
        owner = np.concatenate([np.full(len(rows), k, dtype=np.int64) for k, (_, rows) in enumerate(parts)])
        local = np.concatenate([rows for _, rows in parts])
        try:
            for idx in self.engine.plan(merged.lengths, self.batch_size, self.max_batch_tokens, self.batch_overhead):
                logits = self._forward(merged, idx)
                for k in np.unique(owner[idx]):
                    job = parts[k][0]
                    mine = owner[idx] == k
                    job.logits[local[idx[mine]]] = logits[mine]
                    job.remaining -= int(mine.sum())
                    if job.remaining == 0:
                        _resolve(job.future, job.logits)
        except Exception as err:  # noqa: BLE001 - one failed batch must not end the worker
            logger.exception("inference failed for a round of %d pairs", len(local))
            if self.metrics is not None:
                self.metrics.inference_failures.inc()
            self._fail([job for job, _ in parts], err)

    def _forward(self, merged: Any, idx: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        logits = np.asarray(self.engine.run(merged, idx), dtype=np.float32)
        if self.metrics is not None:
            self.metrics.inference_duration.observe(time.perf_counter() - start)
            self.metrics.batch_pairs.observe(len(idx))
            self.metrics.batch_tokens.observe(len(idx) * int(np.asarray(merged.lengths)[idx].max()))
            self.metrics.pairs_scored.inc(len(idx))
        return logits.reshape(len(idx), -1)

    def _fail(self, jobs: list[_Job], err: Exception) -> None:
        failed = {id(job) for job in jobs}
        with self._cond:
            self._jobs = [job for job in self._jobs if id(job) not in failed]
        for job in jobs:
            if not job.future.done():
                _resolve(job.future, err)
        self._record_queue()

    def _record_queue(self) -> None:
        if self.metrics is None:
            return
        with self._cond:
            pairs = sum(job.pending() for job in self._jobs)
            requests = len(self._jobs)
        self.metrics.queue_pairs.set(pairs)
        self.metrics.queue_requests.set(requests)


def _resolve(future: Future[np.ndarray], value: np.ndarray | BaseException) -> None:
    """Set a result or an exception unless the caller cancelled meanwhile."""
    setter: Callable[[Any], None] = future.set_exception if isinstance(value, BaseException) else future.set_result
    with contextlib.suppress(InvalidStateError):  # the request was cancelled meanwhile
        setter(value)
