"""One rerank job from any API: cut documents to their token limits, encode, batch-score, turn logits into scores.

Every API route turns its request into a :class:`ScoreRequest` and gets back :class:`Scored`: the score
of each document, the order best first, and how many pairs were truncated (which the routes report in
the ``X-Truncated-Pairs`` header; nothing is cut silently).

Tokenization runs on one thread of its own, so the event loop stays free and the next request is
encoded while the inference worker runs the current batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from crossrank.serving import errors
from crossrank.serving.batcher import DynamicBatcher
from crossrank.serving.errors import ApiError
from crossrank.serving.metrics import ServerMetrics
from crossrank.serving.settings import ServerSettings


@dataclass(frozen=True)
class ScoreRequest:
    """What every API asks for, in one shape.

    Attributes:
        truncate: False makes an over-long pair an error (TEI's ``truncate: false``) instead of a cut.
        direction: Which end of a document a cut removes to fit ``max_length`` (TEI's ``truncation_direction``).
        max_tokens_per_doc: Cut each document (without the query) to this many tokens first.
        raw_scores: Logits instead of the model's activation.
    """

    query: str
    documents: Sequence[str]
    truncate: bool = True
    direction: Literal["left", "right"] = "right"
    max_tokens_per_doc: int | None = None
    raw_scores: bool = False
    first_stage_scores: Sequence[float] | None = None


@dataclass(frozen=True)
class Scored:
    scores: np.ndarray
    order: np.ndarray
    truncated: int
    tokens: int

    def warnings(self, max_length: int) -> list[str]:
        if not self.truncated:
            return []
        return [f"{self.truncated} of {len(self.scores)} documents were truncated to fit the token limits "
                f"(max_tokens_per_doc, or {max_length} tokens per query-document pair)."]


def batch_overhead(settings: ServerSettings, engine: Any) -> int | None:
    """The batcher's per-batch overhead: the setting, else the backend's own; 0 means fixed cuts (None)."""
    value = settings.batch_overhead_tokens
    value = engine.batch_overhead_tokens if value is None else value
    return int(value) if value else None


def cut_texts(tokenizer: Any, texts: Sequence[str], budgets: Sequence[int],
              side: Literal["left", "right"]) -> tuple[list[str], np.ndarray]:
    """Cut each text to at most ``budgets[i]`` tokens at ``side``'s end, at token boundaries (via offsets)."""
    if not getattr(tokenizer, "is_fast", False):
        raise ApiError(422, "token limits per document need a fast (Rust) tokenizer, and this model's is not; "
                            "drop max_tokens_per_doc / truncation_direction or convert the tokenizer.", "validation")
    enc = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True, truncation=False)
    out, cut = [], np.zeros(len(texts), dtype=bool)
    for i, (text, offsets) in enumerate(zip(texts, enc["offset_mapping"])):
        budget = max(int(budgets[i]), 0)
        if len(offsets) <= budget:
            out.append(text)
            continue
        cut[i] = True
        if budget == 0:
            out.append("")
        elif side == "right":
            out.append(text[: offsets[budget - 1][1]])
        else:
            out.append(text[offsets[len(offsets) - budget][0]:])
    return out, cut


class RerankService:
    """Scores rerank requests for the routes: owns the tokenizer thread and the dynamic batcher."""

    def __init__(self, model: Any, engine: Any, settings: ServerSettings, metrics: ServerMetrics) -> None:
        if int(engine.num_labels) != 1:
            raise ValueError(f"a rerank server needs a one-label model; {model.name_or_path!r} has "
                             f"{engine.num_labels} labels. Serve a reranker (one relevance logit per pair).")
        self.model = model
        self.engine = engine
        self.settings = settings
        self.metrics = metrics
        self.max_length = int(engine.max_length)
        self.batcher = DynamicBatcher(engine, settings.batch_size, settings.max_batch_tokens, settings.chunk_size,
                                      settings.max_wait_ms / 1000.0, metrics,
                                      batch_overhead=batch_overhead(settings, engine))
        self._tokenize_pool: ThreadPoolExecutor | None = None
        self.stopped = False

    def ensure_started(self) -> None:
        if self._tokenize_pool is None and not self.stopped:
            self._tokenize_pool = ThreadPoolExecutor(1, thread_name_prefix="crossrank-tokenize")
            self.batcher.start()

    def stop(self, timeout: float | None = None) -> bool:
        self.stopped = True
        drained = self.batcher.stop(timeout)
        if self._tokenize_pool is not None:
            self._tokenize_pool.shutdown(wait=False)
        return drained

    @property
    def healthy(self) -> bool:
        return self.batcher.alive

    async def rerank(self, req: ScoreRequest) -> Scored:
        self.ensure_started()
        if not self.healthy:
            raise errors.unhealthy("draining" if self.stopped else "the worker thread ended")
        fusion = self._fusion(req)
        loop = asyncio.get_running_loop()
        encoded, cut, truncated = await loop.run_in_executor(self._tokenize_pool, self._encode, req)
        if not req.truncate and truncated.any():
            i = int(np.flatnonzero(truncated)[0])
            raise ApiError(413, f"input {i} is longer than the model's {self.max_length} tokens "
                                f"(max_input_length) and truncate is false; send truncate: true or shorten it "
                                f"({int(truncated.sum())} of {len(truncated)} inputs are too long).", "validation")
        try:
            logits = await self.batcher.score(encoded)
        except RuntimeError as err:
            if not self.healthy:
                raise errors.unhealthy(str(err)) from err
            raise errors.inference_failed(err) from err
        except Exception as err:  # noqa: BLE001 - any model failure is the client's 500, not a crash
            raise errors.inference_failed(err) from err
        scores = self._scores(logits, req, fusion)
        n_cut = int((truncated | cut).sum())
        self.metrics.truncated_pairs.inc(n_cut)
        return Scored(scores, np.argsort(-scores, kind="stable"), n_cut, int(np.asarray(encoded.lengths).sum()))

    def _fusion(self, req: ScoreRequest) -> Any:
        if req.first_stage_scores is None:
            return None
        fusion = getattr(self.model, "fusion", None)
        if fusion is None:
            raise ApiError(422, "first_stage_scores were sent but this model stores no fusion weight; drop the "
                                "field, or serve a model tuned with tune_fusion (config.json crossrank_fusion).",
                           "validation")
        if len(req.first_stage_scores) != len(req.documents):
            raise ApiError(422, f"first_stage_scores holds {len(req.first_stage_scores)} scores for "
                                f"{len(req.documents)} documents; send one score per document, in order.",
                           "validation")
        return fusion

    def _encode(self, req: ScoreRequest) -> tuple[Any, np.ndarray, np.ndarray]:
        """Encoded pairs, documents cut to a token limit beforehand, pairs cut at ``max_length``."""
        docs = list(req.documents)
        cut = np.zeros(len(docs), dtype=bool)
        tokenizer = self.model.tokenizer
        if req.max_tokens_per_doc is not None:
            docs, cut = cut_texts(tokenizer, docs, [req.max_tokens_per_doc] * len(docs), "right")
        if req.direction == "left" and req.truncate:
            query_tokens = len(tokenizer(req.query, add_special_tokens=False)["input_ids"])
            room = self.max_length - tokenizer.num_special_tokens_to_add(pair=True) - query_tokens
            if room > 0:
                docs, cut_left = cut_texts(tokenizer, docs, [room] * len(docs), "left")
                cut |= cut_left
        encoded = self.engine.encode([(req.query, d) for d in docs])
        too_long = self._really_cut(req.query, docs, np.asarray(encoded.truncated, dtype=bool))
        return encoded, cut, too_long

    def _really_cut(self, query: str, docs: list[str], flagged: np.ndarray) -> np.ndarray:
        """The engine flags every pair that fills ``max_length``; keep only those that were longer."""
        rows = np.flatnonzero(flagged)
        if not len(rows):
            return flagged
        full = self.model.tokenizer([query] * len(rows), [docs[i] for i in rows], truncation=False)["input_ids"]
        out = np.zeros_like(flagged)
        out[rows] = [len(ids) > self.max_length for ids in full]
        return out

    def _scores(self, logits: np.ndarray, req: ScoreRequest, fusion: Any) -> np.ndarray:
        raw = np.asarray(logits, dtype=np.float32).reshape(len(req.documents), -1)[:, 0]
        if fusion is not None:
            scores = np.asarray(fusion.apply(raw, np.asarray(req.first_stage_scores, dtype=np.float64)))
        elif req.raw_scores:
            scores = raw.astype(np.float64)
        else:
            with torch.inference_mode():
                activated = self.model.activation_fn(torch.from_numpy(raw.reshape(-1, 1).copy()))
            scores = activated.reshape(-1).double().cpu().numpy()
        if np.isnan(scores).any():
            raise ApiError(500, "the model returned NaN scores; check the model weights.", "backend")
        return scores
