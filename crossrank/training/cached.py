"""Memory-bounded scoring (gradient caching) for any loss: the trainer's ``mini_batch_size`` mechanism.

A batch's grid can hold thousands of (query, document) pairs; keeping the activations of all of them
for the backward pass is what runs out of memory. ``ChunkedScores`` bounds that to one chunk:

1. **Score without gradients**, ``chunk_size`` pairs at a time (sorted by length, each chunk padded
   only to its own longest pair), saving the random-number state (CPU
   and the model's CUDA device) before each chunk, so dropout can be replayed exactly.
2. The logits of all pairs become one **leaf tensor** that requires grad, passed through an autograd
   function that is the identity forward; the trainer builds the (B, G) grid and the loss from it as usual,
   and the base Trainer's ``accelerator.backward(loss)`` (gradient accumulation scaling and fp16 loss
   scaling included) reaches that function with d(loss)/d(logits).
3. Its backward, :meth:`ChunkedScores.replay`, **re-runs each chunk with gradients**, under the same
   autocast settings and with its saved random state, and back-propagates ``logits_chunk · grad[chunk]``
   into the model (a nested backward, as reentrant activation checkpointing does). Parameter gradients
   equal those of one big forward pass whose dropout masks are the chunk-wise ones. Nothing is left
   pending between ``compute_loss`` and the optimizer step.

Under DDP the chunks other than the last run on the wrapped module's ``.module`` (like ``no_sync``:
gradients accumulate locally, no collective), and the last one goes through the DDP wrapper, so the
gradient all-reduce happens once per step. DeepSpeed runs its own backward and is not supported.

``bucketed_logits`` is the same length-sorting without the caching: a batch scored (with gradients) in
a few length-sorted pieces, so little compute goes into padding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from crossrank.inference.batching import plan_batches


@dataclass(frozen=True)
class RngState:
    """The CPU random state and, when the model is on CUDA, that device's random state."""

    cpu: Tensor
    cuda: Tensor | None
    device: torch.device

    @classmethod
    def capture(cls, device: torch.device) -> RngState:
        cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        return cls(torch.get_rng_state(), cuda, device)

    @contextlib.contextmanager
    def replayed(self) -> Iterator[None]:
        """Run the block from this state, then put the random state back as it was before the block."""
        devices = [self.device] if self.cuda is not None else []
        with torch.random.fork_rng(devices=devices, device_type=self.device.type if devices else "cuda"):
            torch.set_rng_state(self.cpu)
            if self.cuda is not None:
                torch.cuda.set_rng_state(self.cuda, self.device)
            yield


def _autocast_settings(device_type: str) -> tuple[bool, torch.dtype]:
    return torch.is_autocast_enabled(device_type), torch.get_autocast_dtype(device_type)


def length_plan(features: dict[str, Tensor], piece_size: int | None, max_pieces: int = 1,
                min_piece: int = 2, sort: bool = True) -> list[Tensor]:
    """Row indices of each forward pass: pairs sorted by token count, cut into pieces.

    ``piece_size`` pairs per piece (chunked scoring, planned by
    :func:`crossrank.inference.batching.plan_batches`); otherwise up to ``max_pieces`` contiguous pieces of
    the sorted pairs, cut where they save the most padding (:func:`padding_cuts`, each cut must save at
    least ``min_piece`` rows' worth of the longest length). Sorting lets each piece be padded only to its
    own longest pair; ``sort=False`` keeps the input order (left-padded tokenizers).
    """
    mask = features.get("attention_mask")
    n = int(next(iter(features.values())).shape[0])
    order = torch.arange(n)
    lengths = None
    if sort and mask is not None:
        lengths = mask.sum(dim=1).cpu()
        order = torch.argsort(lengths, stable=True)
    if piece_size is not None:
        if lengths is None:
            return list(torch.split(order, piece_size))
        # fixed-size chunks are the scoring engine's length-sorted batches (the one batch planner), shortest first
        return [torch.from_numpy(rows) for rows in plan_batches(lengths.numpy(), piece_size, longest_first=False)]
    if lengths is None or max_pieces <= 1:
        pieces = max(1, min(max_pieces, n // max(min_piece, 1)))
        return list(torch.split(order, -(-n // pieces)))
    sizes = padding_cuts(lengths[order].tolist(), max_pieces, min_piece * int(lengths.max()))
    return list(torch.split(order, sizes))


def padding_cuts(sorted_lengths: list[int], max_pieces: int, piece_cost: int) -> list[int]:
    """Sizes of at most ``max_pieces`` contiguous pieces minimising padded tokens + ``piece_cost`` per piece.

    ``sorted_lengths`` ascend, so a piece costs ``rows * its last length``. Exact dynamic programme over
    (end, pieces): O(max_pieces * n^2), trivial for batch sizes.
    """
    n = len(sorted_lengths)
    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(max_pieces + 1)]
    back = [[0] * (n + 1) for _ in range(max_pieces + 1)]
    best[0][0] = 0.0
    for k in range(1, max_pieces + 1):
        for end in range(1, n + 1):
            for start in range(k - 1, end):
                cost = best[k - 1][start] + (end - start) * sorted_lengths[end - 1] + piece_cost
                if cost < best[k][end]:
                    best[k][end], back[k][end] = cost, start
    k = min(range(1, max_pieces + 1), key=lambda j: (best[j][n], j))
    sizes, end = [], n
    while k > 0:
        start = back[k][end]
        sizes.append(end - start)
        end, k = start, k - 1
    return sizes[::-1]


def _slice_features(features: dict[str, Tensor], rows: Tensor, trim: bool = True) -> dict[str, Tensor]:
    """The ``rows`` of every feature; with ``trim``, padding columns that every selected row has are cut."""
    index = rows.to(next(iter(features.values())).device)
    picked = {key: value.index_select(0, index) for key, value in features.items()}
    mask = picked.get("attention_mask")
    if trim and mask is not None and mask.ndim == 2:
        width = int(mask.sum(dim=1).max())
        picked = {k: v[:, :width] if v.ndim == 2 and v.shape == mask.shape else v for k, v in picked.items()}
    return picked


def _restore_order(parts: list[Tensor], pieces: list[Tensor]) -> Tensor:
    """Concatenate per-piece logits and put them back in the input row order."""
    order = torch.cat(pieces).to(parts[0].device)
    return torch.cat(parts).index_select(0, torch.argsort(order))


def bucketed_logits(model: nn.Module, features: dict[str, Tensor], max_pieces: int, trim: bool) -> Tensor:
    """Logits of all pairs, scored in up to ``max_pieces`` length-sorted pieces (with gradients if enabled).

    Each piece is padded to its own longest pair, so less compute goes into padding; the result is the
    same function of the inputs (up to float rounding). Under DDP, all pieces but the last run on the
    inner module, and the last through the wrapper, so the single backward all-reduces once.
    """
    pieces = length_plan(features, None, max_pieces, sort=trim)
    if len(pieces) == 1 and not trim:
        return _logits(model, features)
    parts = []
    for index, rows in enumerate(pieces):
        module = model if index == len(pieces) - 1 else _local_module(model)
        parts.append(_logits(module, _slice_features(features, rows, trim)))
    return _restore_order(parts, pieces)


def _logits(model: nn.Module, features: dict[str, Tensor]) -> Tensor:
    return model(**features, return_dict=True).logits


def _local_module(model: nn.Module) -> nn.Module:
    """The module to run chunks on without triggering a collective (DDP's inner module), else ``model``."""
    if isinstance(model, nn.parallel.DistributedDataParallel):
        return model.module
    return model


class _ReplayOnBackward(torch.autograd.Function):
    """Identity on the chunked logits; its backward hands the incoming gradient to ``ChunkedScores.replay``."""

    @staticmethod
    def forward(ctx: Any, leaf: Tensor, scorer: ChunkedScores) -> Tensor:
        ctx.scorer = scorer
        return leaf.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, None]:
        ctx.scorer.replay(grad)
        return None, None


@dataclass
class ChunkedScores:
    """Score ``features`` in chunks of ``chunk_size`` pairs; ``replay`` back-propagates chunk by chunk.

    Args:
        model: the (possibly DDP-wrapped) Hugging Face model of the CrossEncoder.
        features: the tokenized pairs of the batch (row-major over the grid's valid cells).
        chunk_size: pairs per forward pass.
    """

    model: nn.Module
    features: dict[str, Tensor]
    chunk_size: int
    trim: bool = True
    _states: list[RngState] = field(default_factory=list)
    _leaf: Tensor | None = None
    _plan: list[Tensor] = field(default_factory=list)
    _autocast: tuple[str, bool, torch.dtype] | None = None

    def _pieces(self) -> list[Tensor]:
        return length_plan(self.features, self.chunk_size, sort=self.trim)

    def score(self) -> Tensor:
        """Logits (N, C) of every pair; back-propagating into them replays the chunks into the model."""
        local = _local_module(self.model)
        device = next(local.parameters()).device
        self._autocast = (device.type, *_autocast_settings(device.type))
        self._plan = self._pieces()
        chunks = []
        with torch.no_grad():
            for rows in self._plan:
                self._states.append(RngState.capture(device))
                chunks.append(_logits(local, _slice_features(self.features, rows, self.trim)))
        self._leaf = torch.cat(chunks).detach().requires_grad_(True)  # in plan order
        return _restore_order([_ReplayOnBackward.apply(self._leaf, self)], self._plan)

    def score_without_grad(self) -> Tensor:
        """Logits (N, C) scored chunk by chunk with no gradient at all (evaluation)."""
        local, pieces = _local_module(self.model), self._pieces()
        with torch.no_grad():
            return _restore_order([_logits(local, _slice_features(self.features, r, self.trim)) for r in pieces],
                                  pieces)

    def replay(self, grad: Tensor | None = None) -> None:
        """Back-propagate ``grad`` (d(loss)/d(logits), plan order) through the model, one chunk at a time.

        Called by autograd during the backward pass of the scores :meth:`score` returned; ``grad``
        defaults to the leaf's accumulated ``.grad``. Dropout is replayed from the saved random states.
        """
        if self._leaf is None or self._autocast is None:
            raise RuntimeError("ChunkedScores.replay() needs score() first; call score() in compute_loss.")
        grad = self._leaf.grad if grad is None else grad
        if grad is None:  # the loss did not depend on the scores (e.g. an empty grid)
            return
        device_type, enabled, dtype = self._autocast
        start = 0
        for index, (rows, state) in enumerate(zip(self._plan, self._states)):
            last = index == len(self._plan) - 1
            module = self.model if last else _local_module(self.model)
            with state.replayed(), torch.enable_grad(), torch.autocast(device_type, dtype=dtype, enabled=enabled):
                logits = _logits(module, _slice_features(self.features, rows, self.trim))
            stop = start + len(rows)
            torch.autograd.backward(logits.float(), grad[start:stop].to(torch.float32))
            start = stop
        self._leaf = None


def chunk_size_for(loss: Any, mini_batch_size: int | None) -> int | None:
    """The chunk size to use: the loss's own ``mini_batch_size`` when it sets one, else the args'."""
    own = getattr(loss, "mini_batch_size", None)
    return int(own) if own is not None else mini_batch_size

