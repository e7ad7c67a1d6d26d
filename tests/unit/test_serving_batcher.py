"""The dynamic batcher: shared batches across requests, fair chunks, failures and cancellation."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("prometheus_client")

from crossrank.model import CrossEncoder  # noqa: E402
from crossrank.serving.batcher import DynamicBatcher  # noqa: E402

WORDS = "the cat dog sat on a mat paris france capital city river music film book".split()


def pairs(n: int, seed: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    return [("capital of france", " ".join(rng.choice(WORDS, size=int(rng.integers(1, 30))))) for _ in range(n)]


class Recorder:
    """Wraps an engine: records every batch's rows (and which job each merged row came from), optionally blocks."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.num_labels = engine.num_labels
        self.max_length = engine.max_length
        self.batches: list[np.ndarray] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def plan(self, *args: Any, **kwargs: Any) -> list[np.ndarray]:
        return self.engine.plan(*args, **kwargs)

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        return self.engine.encode(*args, **kwargs)

    def run(self, encoded: Any, idx: np.ndarray) -> np.ndarray:
        self.entered.set()
        assert self.gate.wait(20)
        self.batches.append(np.asarray(encoded.lengths)[idx])
        return self.engine.run(encoded, idx)


@pytest.fixture(scope="module")
def engine(_tiny_bert_master: Path) -> Any:
    return CrossEncoder(_tiny_bert_master, device="cpu").engine


def test_concurrent_requests_share_batches_and_get_their_own_logits(engine: Any) -> None:
    rec = Recorder(engine)
    batcher = DynamicBatcher(rec, batch_size=64, max_batch_tokens=4096, chunk_size=64, max_wait_s=0.5)
    batcher.start()
    jobs = [pairs(n, seed) for seed, n in enumerate((5, 9, 3))]
    futures = [batcher.submit(engine.encode(p)) for p in jobs]
    results = [f.result(20) for f in futures]
    batcher.stop(10)
    for p, got in zip(jobs, results):
        want = engine.run(engine.encode(p), np.arange(len(p)))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert len(rec.batches) == 1 and len(rec.batches[0]) == 17  # one forward pass for the three requests
    assert list(rec.batches[0]) == sorted(rec.batches[0], reverse=True)  # length-sorted


def test_batches_respect_size_and_token_budget(engine: Any) -> None:
    rec = Recorder(engine)
    batcher = DynamicBatcher(rec, batch_size=8, max_batch_tokens=200, chunk_size=100, max_wait_s=0.0)
    batcher.start()
    p = pairs(40, 7)
    got = batcher.submit(engine.encode(p)).result(20)
    batcher.stop(10)
    assert got.shape == (40, 1)
    assert all(len(b) <= 8 and len(b) * int(b.max()) <= 200 for b in rec.batches)
    assert sum(len(b) for b in rec.batches) == 40


def test_a_small_request_is_not_held_up_by_a_large_one(engine: Any) -> None:
    rec = Recorder(engine)
    batcher = DynamicBatcher(rec, batch_size=8, max_batch_tokens=100_000, chunk_size=8, max_wait_s=0.0)
    batcher.start()
    rec.gate.clear()
    big = batcher.submit(engine.encode(pairs(200, 1)))
    assert rec.entered.wait(20)  # the worker is inside the big request's first chunk
    small = batcher.submit(engine.encode(pairs(3, 2)))
    seen: list[int] = []
    small.add_done_callback(lambda _: seen.append(len(rec.batches)))  # runs on the worker as it resolves
    rec.gate.set()
    small.result(20)
    runs_until_small = seen[0]
    big.result(60)
    batcher.stop(10)
    # the running chunk, then the next round: big's next chunk + the small request, 11 pairs in batches of 8
    assert runs_until_small <= 3
    assert len(rec.batches) >= 200 // 8


def test_a_failed_round_fails_its_requests_only(engine: Any, monkeypatch: Any) -> None:
    batcher = DynamicBatcher(engine, batch_size=8, max_batch_tokens=4096, chunk_size=8, max_wait_s=0.0)
    calls = {"n": 0}
    real = engine.run

    def flaky(encoded: Any, idx: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real(encoded, idx)

    monkeypatch.setattr(engine, "run", flaky)
    batcher.start()
    first = batcher.submit(engine.encode(pairs(4, 3)))
    with pytest.raises(RuntimeError, match="boom"):
        first.result(20)
    second = batcher.submit(engine.encode(pairs(4, 4)))
    assert second.result(20).shape == (4, 1)
    assert batcher.alive
    batcher.stop(10)


def test_cancelled_request_drops_its_remaining_chunks(engine: Any) -> None:
    rec = Recorder(engine)
    batcher = DynamicBatcher(rec, batch_size=4, max_batch_tokens=100_000, chunk_size=4, max_wait_s=0.0)
    batcher.start()
    rec.gate.clear()
    future = batcher.submit(engine.encode(pairs(100, 5)))
    assert rec.entered.wait(20)
    assert future.cancel()
    rec.gate.set()
    other = batcher.submit(engine.encode(pairs(2, 6)))
    other.result(20)
    batcher.stop(10)
    assert sum(len(b) for b in rec.batches) <= 4 + 4 + 2  # at most one more chunk of the cancelled request


def test_stop_drains_then_refuses(engine: Any) -> None:
    batcher = DynamicBatcher(engine, batch_size=4, max_batch_tokens=4096, chunk_size=4, max_wait_s=0.0)
    batcher.start()
    future = batcher.submit(engine.encode(pairs(30, 8)))
    assert batcher.stop(30)
    assert future.result(0).shape == (30, 1)  # submitted before stop: finished, not dropped
    with pytest.raises(RuntimeError, match="not running"):
        batcher.submit(engine.encode(pairs(2, 9)))


def test_batch_overhead_setting_is_checked_and_reaches_the_plan(engine: Any) -> None:
    from crossrank.serving.service import batch_overhead
    from crossrank.serving.settings import ServerSettings

    with pytest.raises(ValueError, match=r"^batch_overhead_tokens must be an integer >= 0 or None; found -1\.$"):
        ServerSettings(batch_overhead_tokens=-1)
    assert engine.batch_overhead_tokens == 160  # the torch backend's own
    assert batch_overhead(ServerSettings(), engine) == 160
    assert batch_overhead(ServerSettings(batch_overhead_tokens=40), engine) == 40
    assert batch_overhead(ServerSettings(batch_overhead_tokens=0), engine) is None  # fixed cuts
    pairs = [("q", "short"), ("q", "a much longer document " * 8), ("q", "mid length text here")]
    batcher = DynamicBatcher(engine, batch_size=32, batch_overhead=0)
    batcher.start()
    try:
        # overhead 0 lets the plan cut for padding alone; the logits must equal the plain engine ones
        got = batcher.submit(engine.encode(pairs)).result(timeout=60)
    finally:
        batcher.stop()
    assert np.allclose(got, engine.logits(pairs), atol=1e-5)
