"""A short measured throughput probe: training, scoring and embedding speed on the user's own texts.

The sizing stage turns these rates into epochs, a rerank depth and a max_length that fit the time budget.
Each measurement runs a warm-up batch first and times the next ones; together they take a few seconds
on a small model and well under a minute on a MiniLM-sized one on two CPU cores.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from crossrank.training.heap import keep_freed_memory

LADDER = (64, 96, 128, 192, 256, 320, 384, 512)
PROBE_MAX_LENGTH = 256


@dataclass
class Rates:
    """Measured speeds at ``max_length``: training and scoring pairs per second, documents and queries embedded
    per second (queries are far shorter than documents: counting them at the documents' rate over-estimated
    SciFact's dense first stage by ~25%)."""

    max_length: int
    train_pairs_per_s: float
    score_pairs_per_s: float
    embed_docs_per_s: float | None
    seconds: float
    embed_queries_per_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pair_lengths(tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> list[int]:
    """Token counts of (query, document) pairs, untruncated."""
    encoded = tokenizer([q for q, _ in pairs], [d for _, d in pairs], truncation=False)
    return [len(ids) for ids in encoded["input_ids"]]


def _time_training(model: Any, pairs: Sequence[tuple[str, str]], batch: int, batches: int) -> float:
    """Pairs per second of forward + backward + AdamW step (the trained weights are restored afterwards): the
    median over ``batches`` batches of ``batch`` pairs, after one warm-up batch.

    ``batch`` is the trainer's pairs per step. The median, not the total: on this shared 2-core machine one
    probe of two 16-pair batches read 8.3 pairs/s where training then ran at 13.7 and the next probe read 13.1,
    and a plan fixed on the low reading left 40% of its training time unused.
    """
    hf = model.model
    if model.device.type == "cpu":
        keep_freed_memory()  # as the Trainer will: the probe must time the steps training will run
    state = {k: v.detach().clone() for k, v in hf.state_dict().items()}
    optimizer = torch.optim.AdamW(hf.parameters(), lr=1e-6)
    hf.train()
    rates = []
    try:
        for step in range(batches + 1):
            chunk = [pairs[(step * batch + i) % len(pairs)] for i in range(batch)]
            start = time.perf_counter()
            features = {k: v.to(model.device) for k, v in model.tokenize(chunk).items()}
            logits = hf(**features, return_dict=True).logits
            logits.float().pow(2).mean().backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if step:  # the first batch warms up allocators and kernels
                rates.append(batch / max(time.perf_counter() - start, 1e-9))
    finally:
        hf.load_state_dict(state)
        hf.eval()
    return float(statistics.median(rates))


def _time_scoring(model: Any, pairs: Sequence[tuple[str, str]], count: int) -> float:
    sample = [pairs[i % len(pairs)] for i in range(count)]
    model.predict(sample[:8], batch_size=8, show_progress_bar=False)
    start = time.perf_counter()
    model.predict(sample, batch_size=32, show_progress_bar=False)
    return count / max(time.perf_counter() - start, 1e-9)


def _time_embedding(embedder_name: str, samples: Sequence[Sequence[str]], count: int) -> list[float]:
    """Texts embedded per second, for each list of texts in ``samples`` (one warm-up call first)."""
    from crossrank.embedder import Embedder

    embedder = Embedder(embedder_name)
    embedder.encode(list(samples[0][:8]), show_progress_bar=False)
    rates = []
    for texts in samples:
        sample = [texts[i % len(texts)] for i in range(count)]
        start = time.perf_counter()
        embedder.encode(sample, show_progress_bar=False)
        rates.append(count / max(time.perf_counter() - start, 1e-9))
    return rates


@contextlib.contextmanager
def _quiet_truncation() -> Iterator[None]:
    """The probe truncates its sample on purpose: the engine's per-call truncation warning would only confuse."""
    engine_logger = logging.getLogger("crossrank.model")
    level = engine_logger.level
    engine_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        engine_logger.setLevel(level)


def measure(model: Any, pairs: Sequence[tuple[str, str]], documents: Sequence[str], max_length: int,
            embedder: str | None, batch: int = 32, batches: int = 4) -> Rates:
    """Measure the three rates with ``model`` truncating at ``max_length`` (``embedder`` None: no dense stage);
    ``batch``: the trainer's pairs per step (``FitConfig.batch_pairs``)."""
    start = time.perf_counter()
    saved = model.max_length
    model.max_length = max_length
    try:
        with _quiet_truncation():
            train = _time_training(model, pairs, batch, batches)
            score = _time_scoring(model, pairs, 48)
    finally:
        model.max_length = saved
    docs, queries = _time_embedding(embedder, [documents, [q for q, _ in pairs]], 48) if embedder and \
        documents else (None, None)
    return Rates(max_length, train, score, docs, time.perf_counter() - start, queries)
